package ktables_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"strconv"
	"testing"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// pullWatch starts a watch the test drives one event at a time, so the
// watcher is exactly as slow as the test makes it.
func pullWatch[E any](t testing.TB, seq iter.Seq2[E, error]) func() (E, error) {
	t.Helper()
	next, stop := iter.Pull2(seq)
	t.Cleanup(stop)
	return func() (E, error) {
		t.Helper()
		ev, err, ok := next()
		if !ok {
			t.Fatal("watch ended without a final error")
		}
		return ev, err
	}
}

// readSnapshot pulls snapshot entries up to EventSynced.
func readSnapshot(t testing.TB, next func() (ktables.Event[string], error)) (map[string]string, []ktables.Position) {
	t.Helper()
	got := map[string]string{}
	for {
		ev, err := next()
		if err != nil {
			t.Fatalf("watch: %v", err)
		}
		switch ev.Kind {
		case ktables.EventSnapshot:
			if _, dup := got[ev.Key]; dup {
				t.Fatalf("V1: key %q twice in one snapshot", ev.Key)
			}
			got[ev.Key] = ev.New
		case ktables.EventSynced:
			return got, ev.Positions
		default:
			t.Fatalf("V1: %s event inside a snapshot", ev.Kind)
		}
	}
}

func openString(t testing.TB, ctx context.Context, tr transport.Transport, topic string, opts ...ktables.Option) *ktables.Table[string] {
	t.Helper()
	tbl, err := ktables.Open(ctx, tr, topic, ktables.String(), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { tbl.Close() })
	return tbl
}

func openStringWriter(t testing.TB, ctx context.Context, tr transport.Transport, topic string) *ktables.Writer[string] {
	t.Helper()
	w, err := ktables.OpenWriter(ctx, tr, topic, ktables.String())
	if err != nil {
		t.Fatalf("OpenWriter: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// SPEC V1, V3: the contents as of a position, then each change with old and
// new value, record timestamp and position.
func TestWatchV1SnapshotThenChanges(t *testing.T) {
	noLeak(t)
	ctx := testCtx(t)
	c := newCluster(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("a"), []byte("1"))
	appendRec(t, c, topic, 0, []byte("b"), []byte("2"))
	tbl := openString(t, ctx, c.Transport(), topic)
	w := openStringWriter(t, ctx, c.Transport(), topic)

	next := pullWatch(t, tbl.Watch(ctx))
	snap, at := readSnapshot(t, next)
	if len(snap) != 2 || snap["a"] != "1" || snap["b"] != "2" {
		t.Fatalf("snapshot %v", snap)
	}
	if len(at) != 1 || at[0] != (ktables.Position{Partition: 0, Offset: 2}) {
		t.Fatalf("snapshot positions %v, want [{0 2}]", at)
	}

	_ = w.Set(ctx, "c", "3")
	_ = w.Set(ctx, "a", "10")
	_ = w.Delete(ctx, "b")
	_ = w.Delete(ctx, "never-there") // removes nothing: no event
	_ = w.Set(ctx, "d", "4")
	want := []struct {
		kind     ktables.EventKind
		key      string
		old, new string
		hadOld   bool
		offset   int64
	}{
		{ktables.EventSet, "c", "", "3", false, 2},
		{ktables.EventSet, "a", "1", "10", true, 3},
		{ktables.EventDelete, "b", "2", "", true, 4},
		{ktables.EventSet, "d", "", "4", false, 6},
	}
	for i, wnt := range want {
		ev, err := next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != wnt.kind || ev.Key != wnt.key || ev.Old != wnt.old || ev.New != wnt.new || ev.HadOld != wnt.hadOld ||
			ev.Position != (ktables.Position{Partition: 0, Offset: wnt.offset}) {
			t.Fatalf("event %d: %+v, want %+v", i, ev, wnt)
		}
		if ev.Time.IsZero() {
			t.Fatalf("V3: event %d has no record timestamp", i)
		}
	}
}

// SPEC V1: a watch started while writes stream in misses nothing and shows
// nothing twice: folding its events gives exactly the table's contents, and
// every change comes after the snapshot's position.
func TestWatchV1LosslessUnderConcurrentWrites(t *testing.T) {
	noLeak(t)
	ctx := testCtx(t)
	c := newCluster(t)
	topic := topicName(t)
	createTopic(t, c, topic, 3)
	tbl := openString(t, ctx, c.Transport(), topic)
	w := openStringWriter(t, ctx, c.Transport(), topic)

	const writes = 2000
	done := make(chan error, 1)
	go func() {
		for i := range writes {
			key := "k" + strconv.Itoa(i%37)
			var err error
			if i%11 == 0 {
				err = w.Delete(ctx, key)
			} else {
				err = w.Set(ctx, key, strconv.Itoa(i))
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- w.Set(ctx, "end", "end")
	}()

	state := map[string]string{}
	var synced map[int32]int64
	last := map[int32]int64{}
	apply := func(ev ktables.Event[string]) {
		switch ev.Kind {
		case ktables.EventSnapshot:
			state[ev.Key] = ev.New
		case ktables.EventSynced:
			synced = map[int32]int64{}
			for _, p := range ev.Positions {
				synced[p.Partition] = p.Offset
			}
		case ktables.EventSet, ktables.EventDelete:
			p := ev.Position
			if p.Offset < synced[p.Partition] || (p.Offset <= last[p.Partition] && last[p.Partition] != 0) {
				t.Fatalf("V1: change at %+v is not after the snapshot (%v) and the previous change (%d)", p, synced, last[p.Partition])
			}
			last[p.Partition] = p.Offset
			if old, had := state[ev.Key]; had != ev.HadOld || old != ev.Old {
				t.Fatalf("V3: %s %q old (%q, %v), the watcher's state says (%q, %v)", ev.Kind, ev.Key, ev.Old, ev.HadOld, old, had)
			}
			if ev.Kind == ktables.EventSet {
				state[ev.Key] = ev.New
			} else {
				delete(state, ev.Key)
			}
		default:
			t.Fatalf("unexpected %s", ev.Kind)
		}
	}
	next := pullWatch(t, tbl.Watch(ctx))
	for state["end"] != "end" {
		ev, err := next()
		if err != nil {
			t.Fatal(err)
		}
		apply(ev)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	// Partitions are applied independently: the watcher may still be
	// behind on the others. Mark each with a last write and read up to it.
	for p := range int32(3) {
		appendRec(t, c, topic, p, []byte("mark"+strconv.Itoa(int(p))), []byte("m"))
	}
	for state["mark0"] == "" || state["mark1"] == "" || state["mark2"] == "" {
		ev, err := next()
		if err != nil {
			t.Fatal(err)
		}
		apply(ev)
	}
	snap := tbl.Snapshot()
	if len(snap) != len(state) {
		t.Fatalf("V1: watcher folded %d keys, table has %d", len(state), len(snap))
	}
	for k, v := range snap {
		if state[k] != v {
			t.Fatalf("V1: key %q: watcher %q, table %q", k, state[k], v)
		}
	}
}

// SPEC V2: a watcher further behind than the buffer gets EventReset and a
// fresh snapshot of the current contents, then changes again.
func TestWatchV2OverflowResyncs(t *testing.T) {
	noLeak(t)
	ctx := testCtx(t)
	c := newCluster(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	tbl := openString(t, ctx, c.Transport(), topic, ktables.WithWatchBuffer(16))
	w := openStringWriter(t, ctx, c.Transport(), topic)
	next := pullWatch(t, tbl.Watch(ctx))
	if snap, _ := readSnapshot(t, next); len(snap) != 0 {
		t.Fatalf("snapshot of an empty table: %v", snap)
	}
	for i := range 100 {
		_ = w.Set(ctx, "k"+strconv.Itoa(i%5), strconv.Itoa(i))
	}
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	ev, err := next()
	if err != nil || ev.Kind != ktables.EventReset {
		t.Fatalf("V2: after overflow got %v %v, want reset", ev.Kind, err)
	}
	snap, _ := readSnapshot(t, next)
	if len(snap) != 5 || snap["k4"] != "99" || snap["k0"] != "95" {
		t.Fatalf("V2: resync snapshot %v", snap)
	}
	_ = w.Set(ctx, "k0", "after")
	ev, err = next()
	if err != nil || ev.Kind != ktables.EventSet || ev.Key != "k0" || ev.Old != "95" || ev.New != "after" {
		t.Fatalf("after resync: %+v %v", ev, err)
	}
}

// SPEC V2 (coalescing mode): a watcher behind gets the net change per key.
func TestWatchV2CoalesceLatestPerKey(t *testing.T) {
	noLeak(t)
	ctx := testCtx(t)
	c := newCluster(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("a"), []byte("start"))
	appendRec(t, c, topic, 0, []byte("gone"), []byte("x"))
	tbl := openString(t, ctx, c.Transport(), topic)
	w := openStringWriter(t, ctx, c.Transport(), topic)
	next := pullWatch(t, tbl.Watch(ctx, ktables.WatchCoalesce()))
	readSnapshot(t, next)
	for i := range 50 {
		_ = w.Set(ctx, "a", strconv.Itoa(i))
	}
	_ = w.Set(ctx, "flash", "1") // comes and goes unseen
	_ = w.Delete(ctx, "flash")
	_ = w.Delete(ctx, "gone")
	_ = w.Set(ctx, "b", "new")
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 3 {
		ev, err := next()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %q->%q %v", ev.Kind, ev.Key, ev.Old, ev.New, ev.HadOld))
	}
	want := []string{`set a "start"->"49" true`, `delete gone "x"->"" true`, `set b ""->"new" false`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("V2 coalesced:\n got %q\nwant %q", got, want)
	}
}

// bigCodec decodes every value into a fresh 256 KiB buffer, so that what a
// watcher retains shows in the heap (the records themselves are tiny).
type bigCodec struct{}

func (bigCodec) Encode(v []byte) ([]byte, error) { return v[:1], nil }
func (bigCodec) Decode(b []byte) ([]byte, error) {
	v := make([]byte, 256<<10)
	copy(v, b)
	return v, nil
}

// SPEC V2: a watcher that never reads holds bounded memory: at most the
// shared buffer of changes, however many changes pass.
func TestWatchV2IdleWatcherBoundedMemory(t *testing.T) {
	noLeak(t)
	ctx := testCtx(t)
	c := newCluster(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	tbl, err := ktables.Open(ctx, c.Transport(), topic, ktables.Codec[[]byte](bigCodec{}), ktables.WithWatchBuffer(16))
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	next, stop := iter.Pull2(tbl.Watch(ctx))
	defer stop()
	if ev, err, _ := next(); err != nil || ev.Kind != ktables.EventSynced {
		t.Fatalf("first event %v %v", ev.Kind, err)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	const changes = 400 // 100 MiB of decoded values if the watcher kept them
	for i := range changes {
		appendRec(t, c, topic, 0, []byte("k"), []byte{byte(i)})
	}
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	grown := int64(heap()) - int64(before)
	// The table's one value, the 16-change buffer and slack: under 8 MiB.
	if grown > 8<<20 {
		t.Fatalf("V2: an idle watcher let the heap grow by %d MiB over %d changes", grown>>20, changes)
	}
	ev, err, _ := next()
	if err != nil || ev.Kind != ktables.EventReset {
		t.Fatalf("the idle watcher's next event: %v %v, want reset", ev.Kind, err)
	}
}

// SPEC V4, B7: ctx, Close and failure end a watch with a typed reason, and
// a watch on a closed or failed table ends at once.
func TestWatchV4EndsWithTypedReason(t *testing.T) {
	ctx := testCtx(t)
	endOf := func(seq iter.Seq2[ktables.Event[string], error], during func()) error {
		t.Helper()
		for ev, err := range seq {
			if err != nil {
				return err
			}
			if ev.Kind == ktables.EventSynced {
				go during()
			}
		}
		t.Fatal("watch ended without an error")
		return nil
	}
	setup := func(t *testing.T) (*memtransport.Cluster, *ktables.Table[string]) {
		noLeak(t)
		c := newCluster(t)
		topic := topicName(t)
		createTopic(t, c, topic, 1)
		return c, openString(t, ctx, c.Transport(), topic)
	}
	t.Run("ctx", func(t *testing.T) {
		_, tbl := setup(t)
		wctx, cancel := context.WithCancel(ctx)
		if err := endOf(tbl.Watch(wctx), cancel); !errors.Is(err, context.Canceled) {
			t.Fatalf("V4: %v, want context.Canceled", err)
		}
	})
	t.Run("close", func(t *testing.T) {
		_, tbl := setup(t)
		if err := endOf(tbl.Watch(ctx), func() { tbl.Close() }); !errors.Is(err, ktables.ErrClosed) {
			t.Fatalf("V4: %v, want ErrClosed", err)
		}
		for _, err := range tbl.Watch(ctx) {
			if !errors.Is(err, ktables.ErrClosed) {
				t.Fatalf("watch on a closed table: %v, want ErrClosed at once", err)
			}
		}
	})
	t.Run("failure", func(t *testing.T) {
		c, tbl := setup(t)
		fail := func() { c.FailNext(memtransport.OpFetch, -1, transport.ErrAuthorization) }
		err := endOf(tbl.Watch(ctx), fail)
		if !errors.Is(err, ktables.ErrTableFailed) || !errors.Is(err, transport.ErrAuthorization) {
			t.Fatalf("V4: %v, want ErrTableFailed with the cause", err)
		}
		for _, err := range tbl.Watch(ctx) {
			if !errors.Is(err, ktables.ErrTableFailed) {
				t.Fatalf("watch on a failed table: %v, want ErrTableFailed at once", err)
			}
		}
	})
}

// SPEC V3: grouped events carry group and member.
func TestWatchV3Grouped(t *testing.T) {
	noLeak(t)
	ctx := testCtx(t)
	c := newCluster(t)
	topic := topicName(t)
	g := openGrouped(t, ctx, c.Transport(), topic)
	w := openGroupedWriter(t, ctx, c.Transport(), topic)
	_ = w.Set(ctx, "billing", "host-a", "10.0.0.1")
	_ = g.Barrier(ctx)
	next := pullWatch(t, g.Watch(ctx))
	ev, err := next()
	if err != nil || ev.Kind != ktables.EventSnapshot || ev.Group != "billing" || ev.Member != "host-a" || ev.New != "10.0.0.1" {
		t.Fatalf("snapshot entry %+v %v", ev, err)
	}
	if ev, _ := next(); ev.Kind != ktables.EventSynced || ev.Group != "" {
		t.Fatalf("want synced, got %+v", ev)
	}
	_ = w.Delete(ctx, "billing", "host-a")
	ev, err = next()
	if err != nil || ev.Kind != ktables.EventDelete || ev.Group != "billing" || ev.Member != "host-a" || ev.Old != "10.0.0.1" {
		t.Fatalf("delete %+v %v", ev, err)
	}
}
