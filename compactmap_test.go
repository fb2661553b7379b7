package ktables

import (
	"hash/maphash"
	"math/rand/v2"
	"strconv"
	"testing"
)

// compactMap behaves like a Go map under any sequence of sets and removes,
// including heavy deletion that exercises backward-shift and entry moves.
func TestCompactMapMatchesGoMap(t *testing.T) {
	for _, keys := range []int{1, 7, 100, 5000} {
		rng := rand.New(rand.NewPCG(uint64(keys), 11))
		m := newCompactMap[int](maphash.MakeSeed())
		want := map[string]int{}
		for op := range 40000 {
			k := "k" + strconv.Itoa(rng.IntN(keys))
			switch rng.IntN(3) {
			case 0, 1:
				_, existed := want[k]
				if added := m.set(hashKey(m.seed, k), k, op); added == existed {
					t.Fatalf("set(%q) added=%v, existed=%v", k, added, existed)
				}
				want[k] = op
			case 2:
				wv, wok := want[k]
				v, ok := m.remove(hashKey(m.seed, k), k)
				if ok != wok || v != wv {
					t.Fatalf("remove(%q) = %v,%v want %v,%v", k, v, ok, wv, wok)
				}
				delete(want, k)
			}
			if op%997 == 0 {
				checkSame(t, m, want)
			}
		}
		checkSame(t, m, want)
		for k := range want {
			m.remove(hashKey(m.seed, k), k)
		}
		if m.len() != 0 {
			t.Fatalf("len %d after removing all", m.len())
		}
	}
}

func checkSame(t *testing.T, m *compactMap[int], want map[string]int) {
	t.Helper()
	if m.len() != len(want) {
		t.Fatalf("len %d want %d", m.len(), len(want))
	}
	for k, v := range want {
		if got, ok := m.get(hashKey(m.seed, k), k); !ok || got != v {
			t.Fatalf("get(%q) = %v,%v want %v", k, got, ok, v)
		}
	}
	seen := 0
	m.each(func(k string, v int) bool {
		if want[k] != v {
			t.Fatalf("each %q=%v want %v", k, v, want[k])
		}
		seen++
		return true
	})
	if seen != len(want) {
		t.Fatalf("each saw %d", seen)
	}
	if _, ok := m.get(hashKey(m.seed, "absent"), "absent"); ok {
		t.Fatal("absent key found")
	}
}

// reserve sizes the index for a bulk load; trim gives back what a log of
// many updates per key made it overshoot, and lookups still work after both.
func TestCompactMapReserveAndTrim(t *testing.T) {
	m := newCompactMap[int](maphash.MakeSeed())
	m.reserve(10_000)
	if len(m.index) < slotsFor(10_000) {
		t.Fatalf("index %d after reserve", len(m.index))
	}
	for i := range 10_000 { // 10k records, 10 keys
		k := "k" + strconv.Itoa(i%10)
		m.set(hashKey(m.seed, k), k, i)
	}
	m.trim()
	if len(m.index) != slotsFor(10) || cap(m.entries)-len(m.entries) > 16 {
		t.Fatalf("after trim: index %d (want %d), entries cap %d", len(m.index), slotsFor(10), cap(m.entries))
	}
	for i := range 10 {
		k := "k" + strconv.Itoa(i)
		if v, ok := m.get(hashKey(m.seed, k), k); !ok || v != 9990+i {
			t.Fatalf("%s = %v %v", k, v, ok)
		}
	}
}

// A load of the keys reserve was told of rehashes no shard: shards receive
// keys unevenly, and one given an even share would double its index
// mid-load.
func TestShardedReserveCoversUnevenShards(t *testing.T) {
	const n = 100_000
	s := newShardedMap[int]()
	s.reserve(n)
	before := make([]int, shardCount)
	for i := range s.shards {
		before[i] = len(s.shards[i].m.index)
	}
	for i := range n {
		s.set("key-"+strconv.Itoa(i), i)
	}
	for i := range s.shards {
		if got := len(s.shards[i].m.index); got != before[i] {
			t.Fatalf("shard %d: index grew from %d to %d slots holding %d keys", i, before[i], got, s.shards[i].m.len())
		}
	}
}
