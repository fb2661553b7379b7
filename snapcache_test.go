package ktables

import (
	"cmp"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// A cached, patched Snapshot equals a copy of a Go map kept beside it,
// whatever mix of sets, removes and Snapshots came before: bursts of
// changes below and above the cache's limit, repeated keys, emptied
// tables. Mutating a returned map changes neither the store nor a later
// Snapshot.
func TestSnapshotCacheMatchesGoMap(t *testing.T) {
	for _, keys := range []int{1, 10, 300, 3000} {
		rng := rand.New(rand.NewPCG(uint64(keys), 17))
		b := bytesStore{newPackedMap()}
		s := stringStore{newPackedMap()}
		want := map[string]string{}
		for round := range 300 {
			// Mostly short bursts (patched), some long ones (abandoned).
			burst := rng.IntN(8)
			if rng.IntN(5) == 0 {
				burst = rng.IntN(2 * max(keys, snapMinPending))
			}
			for range burst {
				k := "k" + strconv.Itoa(rng.IntN(keys))
				if rng.IntN(3) == 0 {
					b.remove(k)
					s.remove(k)
					delete(want, k)
					continue
				}
				v := strconv.Itoa(rng.IntN(1000))
				b.set(k, []byte(v))
				s.set(k, v)
				want[k] = v
			}
			gotB, gotS := b.snapshot(), s.snapshot()
			checkSnap(t, round, gotB, want)
			checkSnapS(t, round, gotS, want)
			// The copies are the caller's: scribbling on them leaves the
			// next Snapshot alone.
			gotB["scribble"] = []byte("x")
			gotS["scribble"] = "x"
			for k := range want {
				delete(gotB, k)
				delete(gotS, k)
				break
			}
			if _, ok := b.get("scribble"); ok {
				t.Fatal("a Snapshot's copy reached the store")
			}
			checkSnap(t, round, b.snapshot(), want)
			checkSnapS(t, round, s.snapshot(), want)
		}
	}
}

func checkSnap(t *testing.T, round int, got map[string][]byte, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("round %d: snapshot has %d keys, want %d", round, len(got), len(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || string(g) != v {
			t.Fatalf("round %d: snapshot[%q] = %q,%v want %q", round, k, g, ok, v)
		}
	}
}

func checkSnapS(t *testing.T, round int, got, want map[string]string) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Fatalf("round %d: string snapshot %v, want %v", round, got, want)
	}
}

// Past the limit the writer stops recording and frees the cache: an
// abandoned Snapshot pins neither a map nor recorded keys.
func TestSnapshotCacheFreedWhenAbandoned(t *testing.T) {
	b := bytesStore{newPackedMap()}
	for i := range 1000 {
		b.set(strconv.Itoa(i), []byte("v"))
	}
	b.snapshot()
	if b.cache.m == nil || !b.log.on {
		t.Fatal("Snapshot kept no cache")
	}
	for i := range snapMinPending + 1 { // 1000/8 is above the minimum
		b.set(strconv.Itoa(i), []byte("w"))
	}
	if b.cache.m == nil {
		t.Fatal("cache freed below the limit")
	}
	for i := range 1000 / 8 {
		b.remove(strconv.Itoa(i))
	}
	if b.cache.m != nil || b.log.on {
		t.Fatalf("cache kept past the limit: map %v, recording %v", b.cache.m != nil, b.log.on)
	}
	for i := range b.shards {
		if b.shards[i].dirty != nil {
			t.Fatalf("shard %d keeps %d recorded keys", i, len(b.shards[i].dirty))
		}
	}
	if got := b.snapshot(); len(got) != 1000-1000/8 {
		t.Fatalf("snapshot after abandoning has %d keys", len(got))
	}
}

// Snapshots taken while a writer runs are each a state the table was in
// at some moment of the call: op i sets or removes key i%keys, so the
// state after the first s ops is known, and some s between the ops done
// before and after the call must match the copy exactly.
func TestSnapshotCachePointInTime(t *testing.T) {
	const keys, ops = 200, 30_000
	b := bytesStore{newPackedMap()}
	plan := randomPlan(keys, ops)
	shots := copiesDuring(plan, b.snapshot, func(o planOp) {
		if o.val == "" {
			b.remove(o.key)
		} else {
			b.set(o.key, []byte(o.val))
		}
	})
	checkPointInTime(t, plan, shots)
}

// planOp sets key to val, or removes it when val is empty.
type planOp struct{ key, val string }

func randomPlan(keys, ops int) []planOp {
	rng := rand.New(rand.NewPCG(3, 3))
	plan := make([]planOp, ops)
	for i := range plan {
		plan[i].key = "k" + strconv.Itoa(i%keys)
		if rng.IntN(5) != 0 {
			plan[i].val = strconv.Itoa(i)
		}
	}
	return plan
}

// shot is a copy taken after from ops were done and before to+1 were.
type shot struct {
	from, to int64
	m        map[string][]byte
}

// copiesDuring applies plan while two goroutines take copies.
func copiesDuring(plan []planOp, copyOf func() map[string][]byte, apply func(planOp)) []shot {
	var done atomic.Int64
	var mu sync.Mutex
	var shots []shot
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				from := done.Load()
				m := copyOf()
				to := done.Load()
				mu.Lock()
				shots = append(shots, shot{from, to, m})
				mu.Unlock()
			}
		})
	}
	for i, o := range plan {
		apply(o)
		done.Store(int64(i + 1))
	}
	close(stop)
	wg.Wait()
	return shots
}

// checkPointInTime fails unless every copy equals the state after the
// first s ops of plan for some s it could have seen.
func checkPointInTime(t *testing.T, plan []planOp, shots []shot) {
	t.Helper()
	if len(shots) == 0 {
		t.Fatal("no copies taken")
	}
	slices.SortFunc(shots, func(a, b shot) int { return cmp.Compare(a.from, b.from) })
	step := func(st map[string]string, o planOp) {
		if o.val == "" {
			delete(st, o.key)
		} else {
			st[o.key] = o.val
		}
	}
	st, at := map[string]string{}, int64(0)
	for _, sh := range shots {
		for ; at < sh.from; at++ {
			step(st, plan[at])
		}
		ahead, matched := maps.Clone(st), false
		for s := sh.from; ; s++ {
			if equalSnap(sh.m, ahead) {
				matched = true
				break
			}
			if s >= min(sh.to+1, int64(len(plan))) {
				break
			}
			step(ahead, plan[s])
		}
		if !matched {
			t.Fatalf("copy taken between ops %d and %d matches no state in between", sh.from, sh.to)
		}
	}
	t.Logf("%d copies checked", len(shots))
}

func equalSnap(got map[string][]byte, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || string(g) != v {
			return false
		}
	}
	return true
}
