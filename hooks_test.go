package ktables_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/ktables/ktables"
)

// hookLog records hook calls from the reader goroutine.
type hookLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *hookLog) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, fmt.Sprintf(format, args...))
}

func (l *hookLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

// SPEC D3 (issue 15 items 19, 20): two OnSet (and two OnDelete) hooks both
// run, in the order given; OnDelete fires for keys that were present only
// (ADR 9), while TombstonesApplied counts every tombstone.
func TestHooksD3ChainAndDeleteSemantics(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	log := &hookLog{}
	tbl := openBytes(t, ctx, c.Transport(), topic,
		ktables.OnSet(func(k string, v []byte) { log.add("set1 %s=%s", k, v) }),
		ktables.OnDelete(func(k string, v []byte) { log.add("del1 %s=%s", k, v) }),
		ktables.OnSet(func(k string, v []byte) { log.add("set2 %s=%s", k, v) }),
		ktables.OnDelete(func(k string, v []byte) { log.add("del2 %s=%s", k, v) }),
	)
	w := openWriter(t, ctx, c.Transport(), topic)
	for _, step := range []func() error{
		func() error { return w.Set(ctx, "a", []byte("1")) },
		func() error { return w.Delete(ctx, "never-set") },
		func() error { return w.Delete(ctx, "a") },
		func() error { return w.Delete(ctx, "a") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"set1 a=1", "set2 a=1", "del1 a=1", "del2 a=1"}
	if got := log.get(); !slices.Equal(got, want) {
		t.Fatalf("D3 hooks: got %q, want %q", got, want)
	}
	if st := tbl.Stats(); st.TombstonesApplied != 3 {
		t.Fatalf("D3 every tombstone is counted: %+v", st)
	}
}

// SPEC D3, G3 (issue 15 item 18): grouped hooks receive (group, member,
// value); the flat hooks do not apply to grouped tables, nor the member
// hooks to flat ones.
func TestHooksG3GroupedHooks(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	log := &hookLog{}
	g := openGrouped(t, ctx, c.Transport(), topic,
		ktables.OnMemberSet(func(grp, m string, v string) { log.add("set %s/%s=%s", grp, m, v) }),
		ktables.OnMemberDelete(func(grp, m string, v string) { log.add("del %s/%s=%s", grp, m, v) }),
		ktables.OnMemberSet(func(grp, m string, v string) { log.add("set2 %s/%s", grp, m) }),
	)
	w := openGroupedWriter(t, ctx, c.Transport(), topic)
	if err := w.Set(ctx, "billing", "host:a", "up"); err != nil {
		t.Fatal(err)
	}
	if err := w.Set(ctx, "", "", "empty"); err != nil {
		t.Fatal(err)
	}
	if err := w.Delete(ctx, "billing", "host:a"); err != nil {
		t.Fatal(err)
	}
	if err := g.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"set billing/host:a=up", "set2 billing/host:a", "set /=empty", "set2 /", "del billing/host:a=up"}
	if got := log.get(); !slices.Equal(got, want) {
		t.Fatalf("G3 grouped hooks: got %q, want %q", got, want)
	}

	tr := c.Transport()
	bad := map[string]func() error{
		"OnSet on a grouped table": func() error {
			_, err := ktables.OpenGrouped(ctx, tr, topic, ktables.String(), ktables.OnSet(func(string, string) {}))
			return err
		},
		"OnMemberSet on a flat table": func() error {
			_, err := ktables.Open(ctx, tr, topic, ktables.String(), ktables.OnMemberSet(func(string, string, string) {}))
			return err
		},
		"OnMemberDelete of another type": func() error {
			_, err := ktables.OpenGrouped(ctx, tr, topic, ktables.String(), ktables.OnMemberDelete(func(string, string, int) {}))
			return err
		},
		"OnMemberSet on a grouped writer": func() error {
			_, err := ktables.OpenGroupedWriter(ctx, tr, topic, ktables.String(), ktables.OnMemberSet(func(string, string, string) {}))
			return err
		},
		"nil member hook": func() error {
			_, err := ktables.OpenGrouped(ctx, tr, topic, ktables.String(), ktables.OnMemberSet[string](nil))
			return err
		},
	}
	for name, open := range bad {
		if err := open(); !errors.Is(err, ktables.ErrInvalidOption) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// SPEC G3 (item 18): All iterates (group, member) and value; MemberCount
// counts one group's members (Python's member_count(group)); TotalMembers
// counts all.
func TestGroupedG3AllAndMemberCount(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	g := openGrouped(t, ctx, c.Transport(), topic)
	w := openGroupedWriter(t, ctx, c.Transport(), topic)
	want := map[ktables.GroupMember]string{
		{Group: "billing", Member: "a"}: "1",
		{Group: "billing", Member: "b"}: "2",
		{Group: "search", Member: "a"}:  "3",
		{Group: "", Member: "x"}:        "4",
	}
	for k, v := range want {
		if err := w.Set(ctx, k.Group, k.Member, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[ktables.GroupMember]string{}
	for k, v := range g.All() {
		if _, dup := got[k]; dup {
			t.Fatalf("G3 All yielded %v twice", k)
		}
		got[k] = v
	}
	if len(got) != len(want) {
		t.Fatalf("G3 All: got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("G3 All: got %v, want %v", got, want)
		}
	}
	n := 0
	for range g.All() {
		n++
		break
	}
	if n != 1 {
		t.Fatal("G3 All must stop when the loop breaks")
	}
	for grp, count := range map[string]int{"billing": 2, "search": 1, "": 1, "absent": 0} {
		if m := g.MemberCount(grp); m != count {
			t.Errorf("G3 MemberCount(%q) = %d, want %d", grp, m, count)
		}
	}
	if g.TotalMembers() != 4 {
		t.Errorf("G3 TotalMembers = %d", g.TotalMembers())
	}
}
