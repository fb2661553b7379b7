package ktables

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The packed store behaves like a Go map under any sequence of sets,
// removes, reserves and trims, heavy deletion included (backward shifts,
// cell moves, shrinking rebuilds).
func TestPackedMapMatchesGoMap(t *testing.T) {
	for _, keys := range []int{1, 7, 100, 5000} {
		rng := rand.New(rand.NewPCG(uint64(keys), 5))
		s := bytesStore{newPackedMap()}
		want := map[string]string{}
		for op := range 40000 {
			k := "k" + strconv.Itoa(rng.IntN(keys))
			switch rng.IntN(7) {
			case 0, 1, 2:
				v := strconv.Itoa(op)
				s.set(k, []byte(v))
				want[k] = v
			case 3, 4:
				old, ok := s.remove(k)
				wv, wok := want[k]
				if ok != wok || string(old) != wv {
					t.Fatalf("remove(%q) = %q,%v want %q,%v", k, old, ok, wv, wok)
				}
				delete(want, k)
			case 5:
				if rng.IntN(500) == 0 {
					s.reserve(rng.IntN(4 * keys))
				}
			case 6:
				if rng.IntN(500) == 0 {
					s.trim()
				}
			}
			if op%997 == 0 {
				checkPacked(t, s, want)
			}
		}
		checkPacked(t, s, want)
		for k := range want {
			s.remove(k)
		}
		checkPacked(t, s, map[string]string{})
	}
}

func checkPacked(t *testing.T, s bytesStore, want map[string]string) {
	t.Helper()
	if s.len() != len(want) {
		t.Fatalf("len %d, want %d", s.len(), len(want))
	}
	for k, v := range want {
		if got, ok := s.get(k); !ok || string(got) != v {
			t.Fatalf("get(%q) = %q,%v want %q", k, got, ok, v)
		}
	}
	if _, ok := s.get("absent"); ok {
		t.Fatal("absent key found")
	}
	snap := s.snapshot()
	if len(snap) != len(want) {
		t.Fatalf("snapshot has %d keys, want %d", len(snap), len(want))
	}
	for k, v := range snap {
		if want[k] != string(v) {
			t.Fatalf("snapshot[%q] = %q, want %q", k, v, want[k])
		}
	}
}

// SPEC R1 under the lock-free read path (ADR 16): while the writer sets,
// removes and rebuilds, a reader never misses a key that stays present,
// never sees a removed key come back with a value it did not have, and
// never pairs a key with another key's value. Run with -race: every word
// both sides touch must be accessed atomically.
func TestPackedReadsDuringWrites(t *testing.T) {
	s := bytesStore{newPackedMap()}
	const stable, churn = 512, 4096
	stableKey := func(i int) string { return "stable-" + strconv.Itoa(i) }
	for i := range stable {
		s.set(stableKey(i), []byte(stableKey(i)+"=0"))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads atomic.Int64
	for r := range 2 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			for !stop.Load() {
				k := stableKey(rng.IntN(stable))
				v, ok := s.get(k)
				if !ok || !strings.HasPrefix(string(v), k+"=") {
					t.Errorf("stable key %q: %q,%v", k, v, ok)
					return
				}
				c := "churn-" + strconv.Itoa(rng.IntN(churn))
				if v, ok := s.get(c); ok && !strings.HasPrefix(string(v), c+"=") {
					t.Errorf("churn key %q has another key's value %q", c, v)
					return
				}
				reads.Add(1)
			}
		})
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for op := 0; op < 200_000 || reads.Load() < 10_000; op++ {
		if op > 5_000_000 {
			break
		}
		switch rng.IntN(8) {
		case 0:
			k := stableKey(rng.IntN(stable))
			s.set(k, []byte(k+"="+strconv.Itoa(op)))
		case 1, 2, 3:
			c := "churn-" + strconv.Itoa(rng.IntN(churn))
			s.set(c, []byte(c+"="+strconv.Itoa(op)))
		case 4, 5, 6:
			s.remove("churn-" + strconv.Itoa(rng.IntN(churn)))
		case 7:
			if rng.IntN(1000) == 0 {
				s.trim()
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	if reads.Load() == 0 {
		t.Fatal("the readers never ran")
	}
}

// One shard whose keys all share a home slot, so every remove shifts a
// long probe run under the readers: without the sequence check a reader
// misses keys that never left (the check this test exists for).
func TestPackedShardReadsDuringShifts(t *testing.T) {
	var sh pshard
	sh.tab.Store(newPtable(0))
	seed := newPackedMap().seed
	var log snapLog // no Snapshot cache: nothing recorded
	var keys []string
	for i := 0; len(keys) < 96; i++ {
		k := "c" + strconv.Itoa(i)
		if seed.hash(k)&0xffffffff < 1<<22 { // home slot 0 below 1,024 slots
			keys = append(keys, k)
		}
	}
	stable, churn := keys[48:], keys[:48]
	put := func(k string, v int) { sh.set(seed, seed.hash(k), newKV(k, []byte(k+"="+strconv.Itoa(v))), &log) }
	for _, k := range stable {
		put(k, 0)
	}
	var stop atomic.Bool
	var misses atomic.Int64
	var wg sync.WaitGroup
	for r := range 2 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 3))
			for !stop.Load() {
				k := stable[rng.IntN(len(stable))]
				e := sh.get(seed.hash(k), k)
				if e == nil || !strings.HasPrefix(string(e.value()), k+"=") {
					misses.Add(1)
				}
			}
		})
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for op := range 20_000 {
		k := churn[rng.IntN(len(churn))]
		if rng.IntN(2) == 0 {
			put(k, op)
		} else {
			sh.remove(seed, seed.hash(k), k, &log)
		}
	}
	stop.Store(true)
	wg.Wait()
	if n := misses.Load(); n > 0 {
		t.Fatalf("readers missed present keys %d times", n)
	}
}
