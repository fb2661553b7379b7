package ktables

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// Members equals a Go model of each group under random sets and removes,
// groups that grow large and shrink (their maps are rebuilt smaller) and
// groups that empty (Members is then nil). Its copies are the caller's.
func TestMembersMatchesGoMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	x := newGroupIndex[[]byte](DefaultKeyCodec)
	want := map[string]map[string]string{}
	apply := func(g, m, v string) {
		k, _ := DefaultKeyCodec.Encode(g, m)
		if x.accept(k) != keyOK {
			t.Fatal("key refused")
		}
		if v == "" {
			x.remove(k)
			delete(want[g], m)
			if len(want[g]) == 0 {
				delete(want, g)
			}
			return
		}
		x.set(k, []byte(v))
		if want[g] == nil {
			want[g] = map[string]string{}
		}
		want[g][m] = v
	}
	for round := range 200 {
		g := "g" + strconv.Itoa(rng.IntN(5))
		size := 1 + rng.IntN(300)
		grow := rng.IntN(2) == 0
		for i := range 400 {
			m := "m" + strconv.Itoa(rng.IntN(size))
			v := strconv.Itoa(round*1000 + i)
			if !grow && rng.IntN(4) != 0 {
				v = ""
			}
			apply(g, m, v)
		}
		for _, g := range []string{"g0", "g1", "g2", "g3", "g4"} {
			got := x.membersOf(g)
			if w, ok := want[g]; !ok {
				if got != nil {
					t.Fatalf("round %d: Members(%q) of an absent group = %v, want nil", round, g, got)
				}
				continue
			} else if !equalSnap(got, w) {
				t.Fatalf("round %d: Members(%q) has %d members, want %d", round, g, len(got), len(w))
			}
			got["scribble"] = []byte("x")
			for m := range got {
				delete(got, m)
			}
			if again := x.membersOf(g); !equalSnap(again, want[g]) {
				t.Fatalf("round %d: mutating a Members copy reached the index", round)
			}
		}
		if x.len() != countMembers(want) {
			t.Fatalf("round %d: %d members, want %d", round, x.len(), countMembers(want))
		}
	}
}

func countMembers(m map[string]map[string]string) (n int) {
	for _, ms := range m {
		n += len(ms)
	}
	return n
}

// Members taken while the reader changes the group is some state the
// group was in: op i sets or removes member i%members of one group, and
// some count of ops between those done before and after the call matches.
func TestMembersPointInTime(t *testing.T) {
	x := newGroupIndex[[]byte](DefaultKeyCodec)
	plan := randomPlan(150, 20_000)
	shots := copiesDuring(plan, func() map[string][]byte { return x.membersOf("g") }, func(o planOp) {
		k, _ := DefaultKeyCodec.Encode("g", o.key)
		if x.accept(k) != keyOK {
			panic("key refused")
		}
		if o.val == "" {
			x.remove(k)
		} else {
			x.set(k, []byte(o.val))
		}
	})
	checkPointInTime(t, plan, shots)
}
