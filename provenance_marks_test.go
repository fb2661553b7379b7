package ktables

import (
	"hash/maphash"
	"testing"
	"unsafe"
)

// Two keys of one hash must keep marks of their own: a lookup confirms the
// key, never trusts the hash alone (SPEC M1 would otherwise reject a record
// for another key's mark).
func TestGenerationHashCollision(t *testing.T) {
	g := newGeneration(0, true)
	const h = 42
	g.put(h, "a", mark{ts: 1, part: 0})
	if _, ok := g.get(h, "b"); ok {
		t.Fatal("b found under a's hash")
	}
	g.put(h, "b", mark{ts: 2, part: 1})
	g.put(h, "b", mark{ts: 3, part: 1})
	g.put(h, "a", mark{ts: 4, part: 2})
	if m, ok := g.get(h, "a"); !ok || m != (mark{ts: 4, part: 2}) {
		t.Fatalf("a: %v %v", m, ok)
	}
	if m, ok := g.get(h, "b"); !ok || m != (mark{ts: 3, part: 1}) {
		t.Fatalf("b: %v %v", m, ok)
	}
	if _, ok := g.get(h, "c"); ok {
		t.Fatal("c found")
	}
	if g.len() != 2 || g.maxTs != 4 {
		t.Fatalf("len %d maxTs %d", g.len(), g.maxTs)
	}
}

// Marks copy their keys: a key that aliased a fetch buffer may be
// overwritten once applied (ADR 7, 15). Keys longer than a chunk and empty
// keys are kept too.
func TestGenerationCopiesKeys(t *testing.T) {
	g := newGeneration(0, true)
	buf := []byte("key-1")
	g.put(1, unsafe.String(&buf[0], len(buf)), mark{ts: 1}) // aliases buf, as a key aliases a record
	long := string(make([]byte, keyChunk+1))
	g.put(2, long, mark{ts: 2})
	g.put(3, "", mark{ts: 3})
	for i := range 10_000 { // many chunks
		g.put(uint64(100+i), string(rune('a'+i%26))+"-filler-key", mark{ts: 4})
	}
	copy(buf, "XXXXX")
	if _, ok := g.get(1, "key-1"); !ok {
		t.Fatal("key-1 lost")
	}
	if m, ok := g.get(2, long); !ok || m.ts != 2 {
		t.Fatal("long key lost")
	}
	if m, ok := g.get(3, ""); !ok || m.ts != 3 {
		t.Fatal("empty key lost")
	}
}

// A generation logs marks until a lookup needs its index, which then holds
// the last mark of each key, as if every mark had been indexed (keys of one
// hash included), and takes every later mark.
func TestGenerationIndexFromLog(t *testing.T) {
	seed := maphash.MakeSeed()
	g := newGeneration(4, false)
	buf := []byte("key-a")
	g.put(0, unsafe.String(&buf[0], len(buf)), mark{ts: 1, part: 0})
	copy(buf, "XXXXX") // the log copied the key
	g.put(0, "key-b", mark{ts: 2, part: 1})
	g.put(0, "key-a", mark{ts: 3, part: 0})
	g.put(0, "", mark{ts: 4, part: 2})
	if g.indexed || g.len() != 4 || g.maxTs != 4 {
		t.Fatalf("log: indexed %v, len %d, maxTs %d", g.indexed, g.len(), g.maxTs)
	}
	g.index(seed)
	for key, want := range map[string]mark{"key-a": {ts: 3, part: 0}, "key-b": {ts: 2, part: 1}, "": {ts: 4, part: 2}} {
		if m, ok := g.get(markHash(seed, key), key); !ok || m != want {
			t.Errorf("%q: %v %v, want %v", key, m, ok, want)
		}
	}
	if _, ok := g.get(markHash(seed, "key-c"), "key-c"); ok {
		t.Error("key-c found")
	}
	g.put(markHash(seed, "key-c"), "key-c", mark{ts: 5, part: 3})
	if m, ok := g.get(markHash(seed, "key-c"), "key-c"); !ok || m.ts != 5 || g.maxTs != 5 {
		t.Errorf("key-c after indexing: %v %v", m, ok)
	}
}

// A home record skips a generation without an index (its marks of the key
// are from the same partition) unless an older generation holds a mark from
// elsewhere: then the younger one's own mark, made later, is the key's.
func TestLookupHomeSeesYoungerLog(t *testing.T) {
	var pv provenance
	pv.old.put(0, "k", mark{ts: 10, part: 2}) // from outside k's home: indexed
	pv.old.index(pv.seedFor())
	pv.young.put(0, "k", mark{ts: 20, part: 0}) // k's home, logged
	if _, m, ok := pv.lookupHome("k"); !ok || m != (mark{ts: 20, part: 0}) {
		t.Fatalf("k: %v %v, want the younger home mark", m, ok)
	}
	if _, _, ok := pv.lookupHome("other"); ok {
		t.Fatal("other found")
	}
	var fresh provenance
	fresh.young.put(0, "k", mark{ts: 20, part: 0})
	if h, _, ok := fresh.lookupHome("k"); ok || h != 0 || fresh.young.indexed {
		t.Fatal("a lone log was indexed or read")
	}
}
