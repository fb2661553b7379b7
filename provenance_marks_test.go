package ktables

import (
	"testing"
	"unsafe"
)

// Two keys of one hash must keep marks of their own: a lookup confirms the
// key, never trusts the hash alone (SPEC M1 would otherwise reject a record
// for another key's mark).
func TestGenerationHashCollision(t *testing.T) {
	var g generation
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
	var g generation
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
