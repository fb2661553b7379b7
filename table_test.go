package ktables_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// SPEC L1, R5: replay from the log start up to the open-time end offsets.
func TestOpenReplaysToEnd(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 3)
	for i := range 300 {
		appendRec(t, c, topic, int32(i%3), []byte("k"+strconv.Itoa(i)), []byte("v"+strconv.Itoa(i)))
	}
	tbl := openBytes(t, ctx, c.Transport(), topic)
	if got := tbl.Status(); got != ktables.StatusCaughtUp {
		t.Fatalf("L1 status %v, want caught up", got)
	}
	if tbl.Len() != 300 {
		t.Fatalf("L1 len %d, want 300", tbl.Len())
	}
	st := tbl.Stats()
	if st.RecordsAtCatchUp < 300 || st.CatchUpDuration <= 0 || st.Partitions != 3 {
		t.Fatalf("D4 stats after catch-up: %+v", st)
	}
	if err := tbl.WaitCaughtUp(ctx); err != nil {
		t.Fatalf("WaitCaughtUp on a caught-up table: %v", err)
	}
}

// SPEC R5: replay starts at the log start, which retention moved.
func TestReplayFromLogStartNotZero(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	for i := range 10 {
		appendRec(t, c, topic, 0, []byte("k"+strconv.Itoa(i)), []byte("v"))
	}
	if err := c.DeleteRecordsBefore(topic, 0, 6); err != nil {
		t.Fatal(err)
	}
	tbl := openBytes(t, ctx, c.Transport(), topic)
	if tbl.Len() != 4 || tbl.Has("k5") || !tbl.Has("k6") {
		t.Fatalf("R5 got %v", keysOf(tbl.Snapshot()))
	}
}

func keysOf(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// SPEC R1: a nil value deletes, an empty value is data.
func TestTombstoneVersusEmpty(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("gone"), []byte("x"))
	appendRec(t, c, topic, 0, []byte("gone"), nil)
	appendRec(t, c, topic, 0, []byte("empty"), []byte{})
	appendRec(t, c, topic, 0, []byte(""), []byte("empty key is a key"))
	tbl := openBytes(t, ctx, c.Transport(), topic)
	if tbl.Has("gone") {
		t.Error("R1 tombstone did not delete")
	}
	v, ok := tbl.Get("empty")
	if !ok || v == nil || len(v) != 0 {
		t.Errorf("R1 empty value: got %v, %v; want non-nil empty data", v, ok)
	}
	if v, ok := tbl.Get(""); !ok || string(v) != "empty key is a key" {
		t.Errorf("empty key: %q %v", v, ok)
	}
	if st := tbl.Stats(); st.TombstonesApplied != 1 || st.RecordsApplied != 3 {
		t.Errorf("D4 stats %+v", st)
	}
}

// SPEC R2, R3, B3: keyless and poison records are counted and skipped, the
// previous entry stays, positions advance and a barrier behind them resolves.
func TestPoisonAndKeylessSkipped(t *testing.T) {
	type flag struct{ On bool }
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("a"), []byte(`{"On":true}`))
	tbl, err := ktables.Open(ctx, c.Transport(), topic, ktables.JSON[flag]())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	appendRec(t, c, topic, 0, []byte("a"), []byte(`{not json`))
	appendRec(t, c, topic, 0, nil, []byte(`{"On":false}`))
	appendRec(t, c, topic, 0, []byte("b"), []byte(`"wrong type"`))
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatalf("B3 barrier behind poison: %v", err)
	}
	if v, ok := tbl.Get("a"); !ok || !v.On {
		t.Errorf("R3 poison replaced the previous entry: %v %v", v, ok)
	}
	if tbl.Has("b") {
		t.Error("R3 poison record was applied")
	}
	st := tbl.Stats()
	if st.KeylessRecords != 1 || st.ValueDecodeErrors != 2 || st.RecordsApplied != 1 {
		t.Errorf("R2/R3 stats %+v", st)
	}
	if tbl.Status() != ktables.StatusCaughtUp {
		t.Errorf("poison changed status to %v", tbl.Status())
	}
}

// SPEC R4: positions move past holes and control records, so catch-up
// and barriers complete when the log ends in a gap.
func TestGapsAndControlRecords(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("a"), []byte("1"))
	if err := c.SkipOffsets(topic, 0, 5); err != nil {
		t.Fatal(err)
	}
	appendRec(t, c, topic, 0, []byte("b"), []byte("2"))
	if _, err := c.AppendControl(topic, 0); err != nil {
		t.Fatal(err)
	}
	tbl := openBytes(t, ctx, c.Transport(), topic)
	if tbl.Len() != 2 {
		t.Fatalf("R4 len %d", tbl.Len())
	}
	if _, err := c.AppendControl(topic, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.SkipOffsets(topic, 0, 3); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatalf("R4 barrier after trailing control record: %v", err)
	}
}

// SPEC R6: last-write-wins over the full log equals last-write-wins over
// the compacted log.
func TestCompactionDoesNotChangeResult(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 4)
	rng := rand.New(rand.NewPCG(1, 2))
	oracle := map[string][]byte{}
	for range 2000 {
		k := "k" + strconv.Itoa(rng.IntN(150))
		var v []byte
		if rng.IntN(5) > 0 {
			v = []byte(strconv.Itoa(rng.Int()))
			oracle[k] = v
		} else {
			delete(oracle, k)
		}
		appendRec(t, c, topic, transport.Partition([]byte(k), 4), []byte(k), v)
	}
	full := openBytes(t, ctx, c.Transport(), topic).Snapshot()
	if err := c.Compact(topic); err != nil {
		t.Fatal(err)
	}
	compacted := openBytes(t, ctx, c.Transport(), topic).Snapshot()
	if err := c.Compact(topic, memtransport.DropTombstones()); err != nil {
		t.Fatal(err)
	}
	dropped := openBytes(t, ctx, c.Transport(), topic).Snapshot()
	if !equalMaps(full, oracle) || !equalMaps(compacted, oracle) || !equalMaps(dropped, oracle) {
		t.Fatalf("R6 results differ: full=%d compacted=%d dropped=%d oracle=%d", len(full), len(compacted), len(dropped), len(oracle))
	}
}

// SPEC L1: the catch-up timeout gives a serving, degraded table that later
// catches up.
func TestCatchUpTimeoutDegrades(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("a"), []byte("1"))
	c.SetLatency(memtransport.OpFetch, 300*time.Millisecond)
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.WithCatchUpTimeout(50*time.Millisecond))
	if got := tbl.Status(); got != ktables.StatusDegraded {
		t.Fatalf("L1 status %v, want degraded", got)
	}
	if err := tbl.WaitCaughtUp(ctx); err != nil {
		t.Fatalf("WaitCaughtUp after degraded: %v", err)
	}
	if tbl.Status() != ktables.StatusCaughtUp || !tbl.Has("a") {
		t.Fatalf("L1 after catching up: status %v, has a %v", tbl.Status(), tbl.Has("a"))
	}
}

// SPEC L2: a fatal error fails the table, freezes it, and barriers return
// promptly with the cause.
func TestFatalErrorFailsTable(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("a"), []byte("1"))
	tbl := openBytes(t, ctx, c.Transport(), topic)
	c.FailNext(memtransport.OpFetch, 1, transport.NewError("fetch", topic, transport.ErrAuthorization, nil))
	appendRec(t, c, topic, 0, []byte("b"), []byte("2"))
	eventually(t, "status failed", func() bool { return tbl.Status() == ktables.StatusFailed })
	if !errors.Is(tbl.Err(), transport.ErrAuthorization) {
		t.Fatalf("L2 Err() = %v", tbl.Err())
	}
	err := tbl.Barrier(ctx)
	if !errors.Is(err, ktables.ErrTableFailed) || !errors.Is(err, transport.ErrAuthorization) {
		t.Fatalf("B2 barrier on failed table: %v", err)
	}
	// Issue 15.11: a failure wins over an earlier catch-up.
	if err := tbl.WaitCaughtUp(ctx); !errors.Is(err, ktables.ErrTableFailed) {
		t.Fatalf("L2 WaitCaughtUp on a failed table: %v, want ErrTableFailed", err)
	}
	if !tbl.Has("a") {
		t.Fatal("L2 frozen contents lost")
	}
}

// SPEC L2, B2: a barrier waiting when the reader fails returns promptly with
// the failure.
func TestBarrierWaitingWhenReaderFails(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	tbl := openBytes(t, ctx, c.Transport(), topic)
	// The next fetch stalls, then fails fatally; the record appended
	// meanwhile is never applied, so only the failure can end the wait.
	c.SetLatency(memtransport.OpFetch, 200*time.Millisecond)
	c.FailNext(memtransport.OpFetch, -1, transport.NewError("fetch", topic, transport.ErrAuthorization, nil))
	n0 := c.Calls(memtransport.OpFetch)
	eventually(t, "a fetch with latency", func() bool { return c.Calls(memtransport.OpFetch) > n0 })
	appendRec(t, c, topic, 0, []byte("a"), []byte("1"))
	err := tbl.Barrier(ctx)
	if !errors.Is(err, ktables.ErrTableFailed) || !errors.Is(err, transport.ErrAuthorization) {
		t.Fatalf("B2 barrier error %v", err)
	}
	if tbl.Has("a") {
		t.Fatal("record applied by a failing fetch")
	}
}

// SPEC L3: Open fails without leaking on bad input, a missing topic with
// ensure disabled, fatal errors in catch-up and a cancelled context.
func TestOpenFailures(t *testing.T) {
	noLeak(t)
	c := newCluster(t)
	ctx := testCtx(t)
	tr := c.Transport()

	_, err := ktables.Open(ctx, tr, "missing", ktables.Bytes(), ktables.WithoutEnsureTopic())
	if !errors.Is(err, transport.ErrUnknownTopic) {
		t.Errorf("L3 missing topic: %v", err)
	}

	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("a"), []byte("1"))
	c.FailNext(memtransport.OpFetch, 1, transport.NewError("fetch", topic, transport.ErrAuthorization, nil))
	_, err = ktables.Open(ctx, tr, topic, ktables.Bytes())
	if !errors.Is(err, transport.ErrAuthorization) {
		t.Errorf("L3 fatal during catch-up: %v", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	c.SetLatency(memtransport.OpFetch, time.Hour)
	go func() {
		for c.Calls(memtransport.OpFetch) < 2 {
			time.Sleep(time.Millisecond) // polling interval
		}
		cancel()
	}()
	_, err = ktables.Open(cctx, tr, topic, ktables.Bytes())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("L3 cancelled context: %v", err)
	}
	c.ClearFaults()
}

// SPEC L3: with the broker unreachable (every metadata call fails
// transiently) Open gives up at its context deadline.
func TestOpenUnreachable(t *testing.T) {
	c := newCluster(t)
	c.FailNext(memtransport.OpCreateTopic, 1<<30, transport.NewError("create topic", "", transport.ErrBrokerUnavailable, nil))
	ctx, cancel := context.WithTimeout(testCtx(t), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := ktables.Open(ctx, c.Transport(), "t", ktables.Bytes(), ktables.WithRetryBackoff(time.Millisecond, 10*time.Millisecond))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("L3 unreachable: %v", err)
	}
	if !errors.Is(err, transport.ErrBrokerUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no cause in %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("Open overran its deadline")
	}
}

// SPEC L4: partitions added after open are read from their start.
func TestNewPartitionsAfterOpen(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	tr := c.Transport()
	tbl := openBytes(t, ctx, tr, topic, ktables.WithPartitionRefresh(20*time.Millisecond))
	if err := c.CreatePartitions(topic, 3); err != nil {
		t.Fatal(err)
	}
	appendRec(t, c, topic, 2, []byte("on-p2"), []byte("x"))
	eventually(t, "record on a new partition", func() bool { return tbl.Has("on-p2") })
	if tbl.Stats().Partitions != 3 {
		t.Fatalf("L4 partitions %d", tbl.Stats().Partitions)
	}
	// A barrier now covers the new partitions.
	appendRec(t, c, topic, 1, []byte("on-p1"), []byte("y"))
	if err := tbl.Barrier(ctx); err != nil || !tbl.Has("on-p1") {
		t.Fatalf("B1 barrier over new partition: %v %v", err, tbl.Has("on-p1"))
	}
}

// SPEC L4: while catching up, the gate extends to new partitions.
func TestGateExtendsToNewPartitions(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("a"), []byte("1"))
	c.SetLatency(memtransport.OpFetch, 200*time.Millisecond)
	if err := c.CreatePartitions(topic, 2); err != nil {
		t.Fatal(err)
	}
	// The topic grew between our metadata read and... simulate by growing
	// right after open started: the refresh finds partition 1 with data.
	appendRec(t, c, topic, 1, []byte("b"), []byte("2"))
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.WithPartitionRefresh(10*time.Millisecond))
	if !tbl.Has("a") || !tbl.Has("b") {
		t.Fatalf("L4 after open: %v", keysOf(tbl.Snapshot()))
	}
}

// SPEC L5, L6: Close is idempotent, stops every goroutine, wakes waiters,
// and reads serve the frozen view.
func TestCloseStopsEverything(t *testing.T) {
	noLeak(t)
	c := memtransport.NewCluster(memtransport.WithDefaultFetchWait(time.Hour))
	defer c.Close()
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 2)
	appendRec(t, c, topic, 0, []byte("a"), []byte("1"))
	tr := c.Transport()
	tbl, err := ktables.Open(ctx, tr, topic, ktables.Bytes(), ktables.WithFetchMaxWait(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	w, err := ktables.OpenWriter(ctx, tr, topic, ktables.Bytes(), ktables.WithPartitionRefresh(time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Set(ctx, "b", []byte("2")); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Close(); err != nil {
		t.Fatalf("L5 second Close: %v", err)
	}
	if tbl.Status() != ktables.StatusClosed {
		t.Fatalf("L5 status %v", tbl.Status())
	}
	if !tbl.Has("a") {
		t.Fatal("L5 frozen view lost")
	}
	if err := tbl.Barrier(ctx); !errors.Is(err, ktables.ErrClosed) {
		t.Fatalf("B2 barrier after close: %v", err)
	}
	if err := tbl.WaitCaughtUp(ctx); err != nil {
		t.Fatalf("WaitCaughtUp after close of a caught-up table: %v", err)
	}
	w.Close()
	if err := w.Set(ctx, "c", []byte("3")); !errors.Is(err, ktables.ErrClosed) {
		t.Fatalf("Set after close: %v", err)
	}
	if err := w.Delete(ctx, "c"); !errors.Is(err, ktables.ErrClosed) {
		t.Fatalf("Delete after close: %v", err)
	}
	// The transport is the caller's: still usable.
	if _, err := tr.Partitions(ctx, topic); err != nil {
		t.Fatalf("X7 table closed a transport it does not own: %v", err)
	}
	tr.Close()
}

// SPEC L5: WithOwnedTransport hands the transport to the table.
func TestOwnedTransportClosed(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	tr := c.Transport()
	tbl := openBytes(t, ctx, tr, topic, ktables.WithOwnedTransport())
	tbl.Close()
	if _, err := tr.Partitions(ctx, topic); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("owned transport not closed: %v", err)
	}
}

// SPEC D1: reads from many goroutines while the reader applies updates
// (run with -race). Each value is consistent for its key.
func TestConcurrentReads(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	tr := c.Transport()
	tbl := openBytes(t, ctx, tr, topic, ktables.WithPartitions(4))
	w := openWriter(t, ctx, tr, topic)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := "k" + strconv.Itoa((i+g)%50)
				if v, ok := tbl.Get(k); ok && string(v[:len(k)]) != k {
					t.Errorf("D1 inconsistent value %q for %q", v, k)
					return
				}
				snap := tbl.Snapshot()
				for k, v := range snap {
					if string(v[:len(k)]) != k {
						t.Errorf("D1 snapshot value %q for %q", v, k)
						return
					}
				}
				n := 0
				for range tbl.All() {
					n++
				}
				_ = tbl.Len()
			}
		}()
	}
	for i := range 500 {
		k := "k" + strconv.Itoa(i%50)
		if err := w.Set(ctx, k, []byte(k+"="+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if tbl.Len() != 50 {
		t.Fatalf("len %d", tbl.Len())
	}
	for k, v := range tbl.All() {
		if want := fmt.Sprintf("%s=%d", k, 450+mustAtoi(k[1:])); string(v) != want {
			t.Fatalf("LWW %s = %q, want %q", k, v, want)
		}
	}
}

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// SPEC D3: hooks fire after the map is updated, with the decoded value; not
// for keyless or poison records; a delete hook gets the old value.
func TestHooks(t *testing.T) {
	type event struct {
		op, key, val string
		visible      bool
	}
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	var mu sync.Mutex
	var events []event
	var tbl *ktables.Table[string]
	ready := make(chan struct{})
	record := func(op, k, v string) {
		<-ready
		_, visible := tbl.Get(k)
		mu.Lock()
		events = append(events, event{op, k, v, visible})
		mu.Unlock()
	}
	appendRec(t, c, topic, 0, nil, []byte("keyless"))
	tr := c.Transport()
	close(ready) // hooks may only run once tbl is assigned; none fire before the first record
	var err error
	tbl, err = ktables.Open(ctx, tr, topic, ktables.String(),
		ktables.OnSet(func(k, v string) { record("set", k, v) }),
		ktables.OnDelete(func(k, old string) { record("delete", k, old) }))
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	appendRec(t, c, topic, 0, []byte("a"), []byte("1"))
	appendRec(t, c, topic, 0, []byte("a"), []byte(""))
	appendRec(t, c, topic, 0, []byte("a"), nil)
	appendRec(t, c, topic, 0, []byte("never"), nil)
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []event{{"set", "a", "1", true}, {"set", "a", "", true}, {"delete", "a", "", false}}
	if fmt.Sprint(events) != fmt.Sprint(want) {
		t.Fatalf("D3 events %v, want %v", events, want)
	}
}

// SPEC L1, restart: reopening gives the identical table.
func TestRestartRehydrates(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	tr := c.Transport()
	w := openWriter(t, ctx, tr, topic, ktables.WithPartitions(3))
	for i := range 200 {
		k := "k" + strconv.Itoa(i%70)
		if i%9 == 0 {
			if err := w.Delete(ctx, k); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := w.Set(ctx, k, []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	first := openBytes(t, ctx, tr, topic)
	snap := first.Snapshot()
	first.Close()
	second := openBytes(t, ctx, c.Transport(), topic)
	if !equalMaps(snap, second.Snapshot()) {
		t.Fatal("restart produced a different table")
	}
}

// SPEC L2: transient faults during catch-up and live reading lose nothing:
// the table equals a last-write-wins oracle.
func TestTransientFaultsLoseNothing(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 4)
	rng := rand.New(rand.NewPCG(7, 9))
	oracle := map[string][]byte{}
	write := func(n int) {
		for range n {
			k := "k" + strconv.Itoa(rng.IntN(100))
			var v []byte
			if rng.IntN(6) > 0 {
				v = []byte(strconv.Itoa(rng.Int()))
				oracle[k] = v
			} else {
				delete(oracle, k)
			}
			appendRec(t, c, topic, transport.Partition([]byte(k), 4), []byte(k), v)
		}
	}
	write(3000)
	transient := transport.NewError("fetch", topic, transport.ErrBrokerUnavailable, nil)
	c.FailNext(memtransport.OpFetch, 5, transient)
	c.FailNext(memtransport.OpNewFetcher, 2, transient)
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.WithRetryBackoff(time.Millisecond, 5*time.Millisecond))
	if !equalMaps(tbl.Snapshot(), oracle) {
		t.Fatal("L2 catch-up under faults differs from oracle")
	}
	for range 5 {
		c.FailNext(memtransport.OpFetch, 2, transient)
		write(500)
	}
	c.FailNext(memtransport.OpEndOffsets, 1, transient)
	if err := tbl.Barrier(ctx); err == nil || !errors.Is(err, transport.ErrBrokerUnavailable) {
		t.Fatalf("B2 barrier should report the offsets error, got %v", err)
	}
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if !equalMaps(tbl.Snapshot(), oracle) {
		t.Fatal("L2 live reading under faults differs from oracle")
	}
	if tbl.Stats().Retries < 5 || tbl.Status() != ktables.StatusCaughtUp {
		t.Fatalf("stats %+v status %v", tbl.Stats(), tbl.Status())
	}
}

// SPEC D3, L1: OnCaughtUp splits replayed changes from live ones exactly.
func TestOnCaughtUpSplitsReplayFromLive(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 2)
	for i := range 50 {
		appendRec(t, c, topic, int32(i%2), []byte("old"+strconv.Itoa(i)), []byte("v"))
	}
	var mu sync.Mutex
	var live []string
	var replayed, caughtUp int
	isLive := false
	tbl := openBytes(t, ctx, c.Transport(), topic,
		ktables.OnSet(func(k string, _ []byte) {
			mu.Lock()
			defer mu.Unlock()
			if isLive {
				live = append(live, k)
			} else {
				replayed++
			}
		}),
		ktables.OnCaughtUp(func() {
			mu.Lock()
			defer mu.Unlock()
			caughtUp++
			isLive = true
		}))
	appendRec(t, c, topic, 0, []byte("new"), []byte("v"))
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if caughtUp != 1 || replayed != 50 || len(live) != 1 || live[0] != "new" {
		t.Fatalf("caughtUp=%d replayed=%d live=%v", caughtUp, replayed, live)
	}
}
