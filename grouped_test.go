package ktables_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

func openGrouped(t testing.TB, ctx context.Context, tr transport.Transport, topic string, opts ...ktables.Option) *ktables.GroupedTable[string] {
	t.Helper()
	g, err := ktables.OpenGrouped(ctx, tr, topic, ktables.String(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func openGroupedWriter(t testing.TB, ctx context.Context, tr transport.Transport, topic string, opts ...ktables.Option) *ktables.GroupedWriter[string] {
	t.Helper()
	w, err := ktables.OpenGroupedWriter(ctx, tr, topic, ktables.String(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// SPEC G3: the incremental index equals a batch rebuild from the flat map
// after any sequence of sets and deletes.
func TestGroupedIndexMatchesRebuild(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	tr := c.Transport()
	g := openGrouped(t, ctx, tr, topic, ktables.WithPartitions(3))
	w := openGroupedWriter(t, ctx, tr, topic)
	flat := openBytes(t, ctx, tr, topic) // the same topic read flat
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 20 {
		for range 100 {
			grp, mem := "g"+strconv.Itoa(rng.IntN(6)), "m"+strconv.Itoa(rng.IntN(8))
			if rng.IntN(3) == 0 {
				if err := w.Delete(ctx, grp, mem); err != nil {
					t.Fatal(err)
				}
			} else if err := w.Set(ctx, grp, mem, strconv.Itoa(round)); err != nil {
				t.Fatal(err)
			}
		}
		if err := g.Barrier(ctx); err != nil {
			t.Fatal(err)
		}
		if err := flat.Barrier(ctx); err != nil {
			t.Fatal(err)
		}
		rebuilt := map[string]map[string]string{}
		for k, v := range flat.Snapshot() {
			grp, mem, ok := ktables.DefaultKeyCodec.Decode(k)
			if !ok {
				t.Fatalf("writer produced foreign key %q", k)
			}
			if rebuilt[grp] == nil {
				rebuilt[grp] = map[string]string{}
			}
			rebuilt[grp][mem] = string(v)
		}
		if got := g.Snapshot(); !reflect.DeepEqual(got, rebuilt) {
			t.Fatalf("G3 round %d: index %v, rebuild %v", round, got, rebuilt)
		}
		n := 0
		for _, ms := range rebuilt {
			n += len(ms)
		}
		if g.TotalMembers() != n || g.GroupCount() != len(rebuilt) || len(g.Groups()) != len(rebuilt) {
			t.Fatalf("G3 counts: members %d/%d groups %d/%d", g.TotalMembers(), n, g.GroupCount(), len(rebuilt))
		}
		for grp, ms := range rebuilt {
			if !reflect.DeepEqual(g.Members(grp), ms) || !g.HasGroup(grp) {
				t.Fatalf("G3 Members(%s)", grp)
			}
		}
	}
}

// SPEC G3: deleting the last member removes the group; the same member id
// in two groups is independent; Members returns a copy.
func TestGroupedSemantics(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	tr := c.Transport()
	g := openGrouped(t, ctx, tr, topic)
	w := openGroupedWriter(t, ctx, tr, topic)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Set(ctx, "billing", "host-a", "10.0.0.1"))
	must(w.Set(ctx, "search", "host-a", "10.0.0.2"))
	must(w.Set(ctx, "", "", "empty pair"))
	must(g.Barrier(ctx))
	if v, _ := g.Get("billing", "host-a"); v != "10.0.0.1" {
		t.Fatalf("G3 get %q", v)
	}
	if v, ok := g.Get("", ""); !ok || v != "empty pair" {
		t.Fatal("G1 empty group and member are valid")
	}
	must(w.Delete(ctx, "billing", "host-a"))
	must(g.Barrier(ctx))
	if g.HasGroup("billing") || g.Members("billing") != nil {
		t.Fatal("G3 last member deleted but the group remains")
	}
	if !g.Has("search", "host-a") {
		t.Fatal("G3 same member id in another group was affected")
	}
	m := g.Members("search")
	m["intruder"] = "x"
	if g.Has("search", "intruder") {
		t.Fatal("G3 Members is not a copy")
	}
	// Stats, status and flat-table semantics carry over.
	if g.Status() != ktables.StatusCaughtUp || g.Stats().RecordsApplied != 3 || g.Stats().TombstonesApplied != 1 || g.Topic() != topic {
		t.Fatalf("status %v stats %+v", g.Status(), g.Stats())
	}
}

// SPEC G2, R3: foreign and invalid keys are skipped and counted.
func TestGroupedForeignKeys(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("nocolon"), []byte("x"))
	appendRec(t, c, topic, 0, []byte("01:x"), []byte("x"))
	appendRec(t, c, topic, 0, []byte("1:\xff"), []byte("x"))
	appendRec(t, c, topic, 0, []byte("3:abcdef"), []byte("member"))
	appendRec(t, c, topic, 0, []byte("nocolon"), nil) // a foreign tombstone
	g := openGrouped(t, ctx, c.Transport(), topic)
	st := g.Stats()
	if st.ForeignKeys != 3 || st.KeyDecodeErrors != 1 || g.TotalMembers() != 1 {
		t.Fatalf("G2 stats %+v members %d", st, g.TotalMembers())
	}
	if v, ok := g.Get("abc", "def"); !ok || v != "member" {
		t.Fatal("G5 a key matching the scheme is a member")
	}
}

// SPEC G4: two writers in one group never clobber each other.
func TestGroupedTwoWriters(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	g := openGrouped(t, ctx, c.Transport(), topic, ktables.WithPartitions(4))
	a := openGroupedWriter(t, ctx, c.Transport(), topic)
	b := openGroupedWriter(t, ctx, c.Transport(), topic)
	done := make(chan error, 2)
	for name, w := range map[string]*ktables.GroupedWriter[string]{"a": a, "b": b} {
		go func() {
			for i := range 100 {
				if err := w.Set(ctx, "svc", "host-"+name, strconv.Itoa(i)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"host-a": "99", "host-b": "99"}
	if got := g.Members("svc"); !reflect.DeepEqual(got, want) {
		t.Fatalf("G4 members %v", got)
	}
}

// Reads after Close and after failure serve the frozen view.
func TestGroupedFrozenView(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	tr := c.Transport()
	w := openGroupedWriter(t, ctx, tr, topic)
	if err := w.Set(ctx, "g", "m", "v"); err != nil {
		t.Fatal(err)
	}
	failed := openGrouped(t, ctx, tr, topic)
	closed := openGrouped(t, ctx, tr, topic)
	closed.Close()
	c.FailNext(memtransport.OpFetch, -1, transport.NewError("fetch", topic, transport.ErrAuthorization, nil))
	eventually(t, "failure", func() bool { return failed.Status() == ktables.StatusFailed })
	c.ClearFaults()
	if err := w.Set(ctx, "g", "m2", "v2"); err != nil {
		t.Fatal(err)
	}
	for name, g := range map[string]*ktables.GroupedTable[string]{"closed": closed, "failed": failed} {
		if v, ok := g.Get("g", "m"); !ok || v != "v" || g.Has("g", "m2") || len(g.Snapshot()["g"]) != 1 {
			t.Errorf("%s: frozen view changed or lost", name)
		}
	}
	if err := failed.Barrier(ctx); !errors.Is(err, ktables.ErrTableFailed) || !errors.Is(failed.Err(), transport.ErrAuthorization) {
		t.Errorf("failed barrier: %v", err)
	}
	if err := closed.Barrier(ctx); !errors.Is(err, ktables.ErrClosed) {
		t.Errorf("closed barrier: %v", err)
	}
}

// Bad input: invalid UTF-8 is a typed error and nothing is sent.
func TestGroupedWriterInvalidKey(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	w := openGroupedWriter(t, ctx, c.Transport(), topic)
	if err := w.Set(ctx, "\xff", "m", "v"); !errors.Is(err, ktables.ErrInvalidKey) {
		t.Fatal(err)
	}
	if err := w.Delete(ctx, "g", "\xfe"); !errors.Is(err, ktables.ErrInvalidKey) {
		t.Fatal(err)
	}
	if hw, _ := c.HighWatermark(topic, 0); hw != 0 {
		t.Fatal("something was sent")
	}
	// A custom separator is used on both sides.
	kc, _ := ktables.NewLengthPrefixed("|")
	cw := openGroupedWriter(t, ctx, c.Transport(), topic, ktables.WithKeyCodec(kc))
	if err := cw.Set(ctx, "g", "m", "v"); err != nil {
		t.Fatal(err)
	}
	recs, _ := c.Records(topic, 0)
	if len(recs) != 1 || string(recs[0].Key) != "1|gm" {
		t.Fatalf("custom separator on the wire: %v", recs)
	}
	g := openGrouped(t, ctx, c.Transport(), topic, ktables.WithKeyCodec(kc))
	if !g.Has("g", "m") {
		t.Fatal("custom separator not decoded")
	}
}
