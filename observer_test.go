package ktables_test

import (
	"bytes"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// recorder is an Observer keeping every event, safe for concurrent use.
type recorder struct {
	mu       sync.Mutex
	applied  []ktables.AppliedEvent
	statuses []ktables.StatusEvent
	stale    []ktables.StaleEvent
	retries  []ktables.RetryEvent
	barriers []ktables.BarrierEvent
	writes   []ktables.WriteEvent
}

func (r *recorder) Applied(e ktables.AppliedEvent) {
	r.mu.Lock()
	r.applied = append(r.applied, e)
	r.mu.Unlock()
}
func (r *recorder) StatusChanged(e ktables.StatusEvent) {
	r.mu.Lock()
	r.statuses = append(r.statuses, e)
	r.mu.Unlock()
}
func (r *recorder) StaleChanged(e ktables.StaleEvent) {
	r.mu.Lock()
	r.stale = append(r.stale, e)
	r.mu.Unlock()
}
func (r *recorder) Retried(e ktables.RetryEvent) {
	r.mu.Lock()
	r.retries = append(r.retries, e)
	r.mu.Unlock()
}
func (r *recorder) Barrier(e ktables.BarrierEvent) {
	r.mu.Lock()
	r.barriers = append(r.barriers, e)
	r.mu.Unlock()
}
func (r *recorder) Wrote(e ktables.WriteEvent) {
	r.mu.Lock()
	r.writes = append(r.writes, e)
	r.mu.Unlock()
}

func (r *recorder) sumApplied() (sum ktables.AppliedEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.applied {
		sum.Records += e.Records
		sum.Set += e.Set
		sum.Deleted += e.Deleted
		sum.Keyless += e.Keyless
		sum.KeyDecodeErrors += e.KeyDecodeErrors
		sum.ForeignKeys += e.ForeignKeys
		sum.ValueDecodeErrors += e.ValueDecodeErrors
	}
	return sum
}

func (r *recorder) statusPath() []ktables.Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ktables.Status
	for i, e := range r.statuses {
		if i == 0 {
			out = append(out, e.From)
		}
		out = append(out, e.To)
	}
	return out
}

// SPEC D4: the observer sees every record by kind, the same counts Stats
// adds up, and each status transition once, catch-up first and close last.
func TestObserverAppliedAndStatus(t *testing.T) {
	noLeak(t)
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 2)
	appendRec(t, c, topic, 0, []byte("a"), []byte(`1`))
	appendRec(t, c, topic, 1, []byte("b"), []byte(`2`))
	appendRec(t, c, topic, 0, []byte("a"), nil)
	appendRec(t, c, topic, 1, nil, []byte(`3`))
	appendRec(t, c, topic, 0, []byte("c"), []byte(`not json`))

	rec, second := &recorder{}, &recorder{}
	tbl, err := ktables.Open(ctx, c.Transport(), topic, ktables.JSON[int](),
		ktables.WithObserver(rec), ktables.WithObserver(second))
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	eventually(t, "the catch-up batch reported", func() bool { return rec.sumApplied().Records == 5 })
	got := rec.sumApplied()
	if got.Set != 2 || got.Deleted != 1 || got.Keyless != 1 || got.ValueDecodeErrors != 1 || got.KeyDecodeErrors != 0 {
		t.Fatalf("D4 applied events sum to %+v", got)
	}
	st := tbl.Stats()
	if got.Set != st.RecordsApplied || got.Deleted != st.TombstonesApplied || got.ValueDecodeErrors != st.ValueDecodeErrors {
		t.Fatalf("D4 events %+v disagree with Stats %+v", got, st)
	}
	if second.sumApplied() != got {
		t.Fatalf("the second observer got %+v, the first %+v", second.sumApplied(), got)
	}

	// A live record after catch-up is one more event.
	appendRec(t, c, topic, 1, []byte("d"), []byte(`4`))
	eventually(t, "the live record reported", func() bool { return rec.sumApplied().Set == 3 })

	m := tbl.Metrics()
	if m.Source != tbl.Source() || m.Source.Topic != topic || m.Source.Kind != ktables.SourceTable ||
		m.Keys != 2 || m.Status != ktables.StatusCaughtUp || len(m.Lag) != 2 || m.Stats.RecordsApplied != 3 {
		t.Fatalf("Metrics() = %+v", m)
	}
	rec.mu.Lock()
	for _, e := range rec.applied {
		if e.Source != tbl.Source() {
			t.Errorf("applied event from %v, want %v", e.Source, tbl.Source())
		}
	}
	rec.mu.Unlock()

	tbl.Close()
	path := rec.statusPath()
	want := []ktables.Status{ktables.StatusLoading, ktables.StatusCaughtUp, ktables.StatusClosed}
	if len(path) != len(want) || path[0] != want[0] || path[1] != want[1] || path[2] != want[2] {
		t.Fatalf("L2 status path %v, want %v", path, want)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if cu := rec.statuses[0]; cu.SinceOpen <= 0 || cu.Source != tbl.Source() {
		t.Fatalf("catch-up event %+v", cu)
	}
}

// SPEC L2: failure is a transition with its cause; retries are reported
// with their operation.
func TestObserverRetryAndFailure(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	rec := &recorder{}
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.WithObserver(rec),
		ktables.WithRetryBackoff(time.Millisecond, 5*time.Millisecond))

	c.FailNext(memtransport.OpFetch, 1, nil)
	eventually(t, "a fetch retry", func() bool { return tbl.Stats().Retries >= 1 })
	rec.mu.Lock()
	if len(rec.retries) == 0 || rec.retries[0].Op != ktables.OpFetch || rec.retries[0].Err == nil {
		t.Errorf("retry events %+v", rec.retries)
	}
	rec.mu.Unlock()

	c.FailNext(memtransport.OpFetch, 1, transport.ErrAuthorization)
	eventually(t, "the table failed", func() bool { return tbl.Status() == ktables.StatusFailed })
	eventually(t, "the failure reported", func() bool {
		p := rec.statusPath()
		return len(p) == 3 && p[2] == ktables.StatusFailed
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if ev := rec.statuses[1]; ev.From != ktables.StatusCaughtUp || !errors.Is(ev.Err, transport.ErrAuthorization) {
		t.Fatalf("failure event %+v", ev)
	}
}

// Barrier and write latencies, with where each write landed; a writer's
// retries name the operation retried.
func TestObserverBarrierAndWrites(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 3)
	rec := &recorder{}
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.WithObserver(rec))
	w := openWriter(t, ctx, c.Transport(), topic, ktables.WithObserver(rec),
		ktables.WithRetryBackoff(time.Millisecond, 5*time.Millisecond))

	c.FailNext(memtransport.OpProduce, 1, nil)
	tok, err := w.SetWithToken(ctx, "k", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	tbl.Close()
	if err := tbl.Barrier(ctx); !errors.Is(err, ktables.ErrClosed) {
		t.Fatalf("Barrier after Close: %v", err)
	}
	w.Close()
	if err := w.Set(ctx, "k", []byte("v")); !errors.Is(err, ktables.ErrClosed) {
		t.Fatalf("Set after Close: %v", err)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.writes) != 3 {
		t.Fatalf("write events %+v, want 3", rec.writes)
	}
	set, del, closed := rec.writes[0], rec.writes[1], rec.writes[2]
	if want, _ := ktables.NewToken(topic, set.Position); set.Op != ktables.OpSet || set.Err != nil ||
		set.Duration <= 0 || set.Source != w.Source() || want.String() != tok.String() {
		t.Errorf("set event %+v, token %v", set, tok)
	}
	if del.Op != ktables.OpDelete || del.Err != nil || del.Position.Offset != set.Position.Offset+1 {
		t.Errorf("delete event %+v", del)
	}
	if !errors.Is(closed.Err, ktables.ErrClosed) {
		t.Errorf("write on a closed writer: event %+v", closed)
	}
	if len(rec.retries) != 1 || rec.retries[0].Op != ktables.OpSet || rec.retries[0].Source != w.Source() {
		t.Errorf("writer retry events %+v", rec.retries)
	}
	if len(rec.barriers) != 2 || rec.barriers[0].Err != nil || rec.barriers[0].Duration <= 0 ||
		!errors.Is(rec.barriers[1].Err, ktables.ErrClosed) || rec.barriers[0].Source != tbl.Source() {
		t.Errorf("barrier events %+v", rec.barriers)
	}
	if w.Source() == tbl.Source() || w.Source().Kind != ktables.SourceWriter {
		t.Errorf("writer source %v, table source %v", w.Source(), tbl.Source())
	}
}

// Grouped tables report foreign and undecodable keys; a grouped table and
// writer have the sources of what they wrap.
func TestObserverGrouped(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("plain"), []byte("x"))
	appendRec(t, c, topic, 0, []byte{0xff, 0xfe}, []byte("x"))
	rec := &recorder{}
	g, err := ktables.OpenGrouped(ctx, c.Transport(), topic, ktables.String(), ktables.WithObserver(rec))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	gw, err := ktables.OpenGroupedWriter(ctx, c.Transport(), topic, ktables.String(), ktables.WithObserver(rec))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	if err := gw.Set(ctx, "svc", "pod-1", "up"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the member reported", func() bool { return rec.sumApplied().Set == 1 })
	sum := rec.sumApplied()
	if sum.ForeignKeys != 1 || sum.KeyDecodeErrors != 1 {
		t.Fatalf("grouped poison: %+v", sum)
	}
	if m := g.Metrics(); m.Keys != 1 || m.Source != g.Source() || m.Stats.ForeignKeys != 1 {
		t.Fatalf("grouped Metrics() = %+v", m)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.writes) != 1 || rec.writes[0].Source != gw.Source() {
		t.Fatalf("grouped write events %+v", rec.writes)
	}
}

// SPEC T4: becoming stale and fresh again reach the observer like OnStale.
func TestObserverStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := memtransport.NewCluster()
		defer c.Close()
		rec := &recorder{}
		tbl, err := ktables.Open(t.Context(), c.Transport(), "t", ktables.Bytes(), ktables.WithObserver(rec),
			ktables.WithFetchMaxWait(100*time.Millisecond), ktables.WithRetryBackoff(10*time.Millisecond, 100*time.Millisecond),
			ktables.WithMaxStaleness(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer tbl.Close()
		c.FailNext(memtransport.OpFetch, -1, nil)
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		c.ClearFaults()
		time.Sleep(300 * time.Millisecond)
		synctest.Wait()
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.stale) != 2 || !rec.stale[0].Stale || rec.stale[1].Stale || rec.stale[0].Source != tbl.Source() {
			t.Fatalf("T4 stale events %+v, want stale then fresh", rec.stale)
		}
	})
}

type panickyObserver struct{ ktables.NopObserver }

func (panickyObserver) Applied(ktables.AppliedEvent) { panic("observer bug") }
func (panickyObserver) Wrote(ktables.WriteEvent)     { panic("observer bug") }

// An observer that panics is logged; the table and writer keep working and
// later observers still get the event.
func TestObserverPanicRecovered(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	var mu sync.Mutex
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	rec := &recorder{}
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.WithObserver(panickyObserver{}), ktables.WithObserver(rec), ktables.WithLogger(logger))
	w := openWriter(t, ctx, c.Transport(), topic, ktables.WithObserver(panickyObserver{}), ktables.WithLogger(logger))
	if err := w.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if v, ok := tbl.Get("k"); !ok || string(v) != "v" {
		t.Fatalf("Get after a panicking observer: %q %v", v, ok)
	}
	eventually(t, "the later observer got the batch", func() bool { return rec.sumApplied().Set == 1 })
	mu.Lock()
	defer mu.Unlock()
	if !bytes.Contains(logs.Bytes(), []byte("observer panicked")) {
		t.Fatalf("panic not logged:\n%s", logs.String())
	}
}

func TestWithObserverInvalid(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	if _, err := ktables.Open(ctx, c.Transport(), topicName(t), ktables.Bytes(), ktables.WithObserver(nil)); !errors.Is(err, ktables.ErrInvalidOption) {
		t.Fatalf("WithObserver(nil): %v", err)
	}
	if _, err := ktables.EnsureTopic(ctx, c.Transport(), topicName(t), ktables.WithObserver(ktables.NopObserver{})); !errors.Is(err, ktables.ErrInvalidOption) {
		t.Fatalf("WithObserver on EnsureTopic: %v", err)
	}
}
