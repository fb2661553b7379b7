package ktables

import (
	"strings"
	"testing"
	"unsafe"
)

// Get compares whole keys, whatever their length: the head words in line,
// a long key's middle after the probe (keyHead). Each key that differs from
// the probed one in a single byte, or by one byte more or less, is planted
// in the probed key's own slot with its tag, so only the comparison stands
// between it and a wrong hit; then the probed key itself one slot on, which
// the probe must still reach. Lengths 0 to 80 cover every head shape (the
// byte loop, overlapping words, head and middle) at and around their
// boundaries; the key's bytes all differ, so a load from the wrong offset
// shows, and values of several lengths vary the header a short key's head
// is loaded beside.
func TestPackedGetComparesWholeKey(t *testing.T) {
	values := []string{"", "v", "0123456789", strings.Repeat("v", 300)}
	for n := range 81 {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte('A' + j%58)
		}
		key := string(b)
		var others []string
		for j := range n {
			b := []byte(key)
			b[j] ^= 0x20
			others = append(others, string(b))
		}
		others = append(others, key+"A")
		if n > 0 {
			others = append(others, key[:n-1], key[1:])
		}
		for i, other := range others {
			v := values[i%len(values)]
			p := newPackedMap()
			h := p.seed.hash(key)
			tab := newPtable(minIndex)
			home := homeSlot(h, minIndex)
			tab.fill(home, tagOf(h), unsafe.Pointer(newKV(other, []byte(v))))
			p.shards[h>>(64-shardBits)].tab.Store(tab)
			if got, ok := p.getBytes(key); ok {
				t.Fatalf("get(%q) found %q's entry (%q)", key, other, got)
			}
			if tab.lookup(h, key) != nil {
				t.Fatalf("lookup(%q) found %q's entry", key, other)
			}
			want := values[(i+1)%len(values)]
			tab.fill((home+1)%minIndex, tagOf(h), unsafe.Pointer(newKV(key, []byte(want))))
			if got, ok := p.getBytes(key); !ok || string(got) != want {
				t.Fatalf("get(%q) past %q's entry = %.10q,%v, want %.10q", key, other, got, ok, want)
			}
		}
		for _, v := range values {
			p := newPackedMap()
			p.setBytes(key, []byte(v))
			if got, ok := p.getBytes(key); !ok || string(got) != v {
				t.Fatalf("get(%q) = %.10q,%v, want %.10q", key, got, ok, v)
			}
		}
	}
}

// Get reads a shard's seq and tab on every call; the writer writes its lock
// on every set. Apart, a set under live reads does not take the readers'
// cache line (pshard).
func TestPackedShardLayout(t *testing.T) {
	var s pshard
	if off := unsafe.Offsetof(s.mu); off < cacheLine {
		t.Errorf("mu at offset %d shares a line with seq and tab", off)
	}
	if unsafe.Offsetof(s.tab)+unsafe.Sizeof(s.tab) > cacheLine {
		t.Error("seq and tab span two lines")
	}
	if size := unsafe.Sizeof(s); size%cacheLine != 0 {
		t.Errorf("pshard is %d bytes, not whole lines", size)
	}
	var p packedShards
	lastRead := unsafe.Offsetof(p.shards) + (shardCount-1)*unsafe.Sizeof(s) + unsafe.Offsetof(s.tab) + unsafe.Sizeof(s.tab)
	if unsafe.Offsetof(p.count) < lastRead+cacheLine || unsafe.Offsetof(p.count) < unsafe.Sizeof(p.seed)+cacheLine {
		t.Error("count shares a line with what Get reads")
	}
}

// Table.Get reaches the packed store directly only for the value types the
// store returns by reinterpreting a slice (packedGet).
func TestPackedValueTypes(t *testing.T) {
	if !packedValue[[]byte]() || !packedValue[string]() {
		t.Error("[]byte and string values must take the direct path")
	}
	if packedValue[int]() || packedValue[any]() || packedValue[[]int]() {
		t.Error("other value types must not")
	}
}
