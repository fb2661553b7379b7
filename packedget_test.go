package ktables

import (
	"strings"
	"testing"
	"unsafe"
)

// Get compares whole keys, whatever their length: keys of 8 to 16 bytes
// compare as two words in line (getBytes, kv.hasKey), others as strings.
// Each key that differs from the probed one in a single byte, or by one byte
// more or less, is planted in the probed key's own slot with its tag, so
// only the comparison stands between it and a wrong hit.
func TestPackedGetComparesWholeKey(t *testing.T) {
	for n := range 41 {
		key := strings.Repeat("k", n)
		var others []string
		for j := range n {
			b := []byte(key)
			b[j] = 'x'
			others = append(others, string(b))
		}
		others = append(others, key+"k")
		if n > 0 {
			others = append(others, key[:n-1])
		}
		for _, other := range others {
			p := newPackedMap()
			h := p.seed.hash(key)
			tab := newPtable(minIndex)
			tab.fill(homeSlot(h, minIndex), tagOf(h), unsafe.Pointer(newKV(other, []byte("v"))))
			p.shards[h>>(64-shardBits)].tab.Store(tab)
			if v, ok := p.getBytes(key); ok {
				t.Fatalf("get(%q) found %q's entry (%q)", key, other, v)
			}
			if tab.lookup(h, key) != nil {
				t.Fatalf("lookup(%q) found %q's entry", key, other)
			}
		}
		p := newPackedMap()
		p.setBytes(key, []byte("v"))
		if v, ok := p.getBytes(key); !ok || string(v) != "v" {
			t.Fatalf("get(%q) = %q,%v", key, v, ok)
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
