package ktables_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// keyOn returns a key the writer's partitioner puts on partition p of n.
func keyOn(t testing.TB, p, n int32) string {
	t.Helper()
	for i := range 10_000 {
		k := "key-" + strconv.Itoa(i)
		if transport.Partition([]byte(k), n) == p {
			return k
		}
	}
	t.Fatalf("no key for partition %d of %d", p, n)
	return ""
}

// SPEC T1, T2: a token from a writer in one process, carried as text, makes
// a table in another process (here: another transport) show the writes.
func TestWaitForTokenAcrossProcesses(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 4)
	w := openWriter(t, ctx, c.Transport(), topic)
	tbl := openBytes(t, ctx, c.Transport(), topic)

	var acc ktables.Token
	for i := range 20 {
		tok, err := w.SetWithToken(ctx, "k"+strconv.Itoa(i), []byte(strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		if tok.Topic() != topic || tok.Len() != 1 {
			t.Fatalf("T1 token of one write: %v", tok)
		}
		if err := acc.Merge(tok); err != nil {
			t.Fatal(err)
		}
	}
	del, err := w.DeleteWithToken(ctx, "k3")
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.Merge(del); err != nil {
		t.Fatal(err)
	}
	header := acc.String() // what travels between the processes
	got, err := ktables.ParseToken(header)
	if err != nil {
		t.Fatal(err)
	}
	if err := tbl.WaitFor(ctx, got); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		k := "k" + strconv.Itoa(i)
		if v, ok := tbl.Get(k); (i == 3) == ok || ok && string(v) != strconv.Itoa(i) {
			t.Fatalf("T2 %s after WaitFor: %q %v", k, v, ok)
		}
	}
	if !tbl.Position().Covers(got) {
		t.Fatalf("T3 Position %v does not cover the applied token %v", tbl.Position(), got)
	}
	// A second table waiting for the first one's position shows at least
	// what the first shows.
	other := openBytes(t, ctx, c.Transport(), topic)
	if err := other.WaitFor(ctx, tbl.Position()); err != nil || !equalMaps(other.Snapshot(), tbl.Snapshot()) {
		t.Fatalf("T3 a table at another's position differs: %v", err)
	}
}

// SPEC T2: an applied token answers without a round trip or allocation.
func TestWaitForAppliedIsLocal(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	w := openWriter(t, ctx, c.Transport(), topic)
	tbl := openBytes(t, ctx, c.Transport(), topic)
	tok, err := w.SetWithToken(ctx, "a", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tbl.WaitFor(ctx, tok); err != nil {
		t.Fatal(err)
	}
	ends, parts := c.Calls(memtransport.OpEndOffsets), c.Calls(memtransport.OpPartitions)
	allocs := testing.AllocsPerRun(100, func() {
		if err := tbl.WaitFor(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if err := tbl.WaitForChecked(ctx, tok); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("T2 WaitFor on an applied token allocated %.1f times", allocs)
	}
	if c.Calls(memtransport.OpEndOffsets) != ends || c.Calls(memtransport.OpPartitions) != parts {
		t.Fatal("T2 WaitFor on an applied token made a request")
	}
	if err := tbl.WaitFor(ctx, ktables.Token{}); err != nil {
		t.Fatalf("zero token: %v", err)
	}
	if err := tbl.WaitFor(ctx, mustToken(t, "another-topic")); !errors.Is(err, ktables.ErrTokenTopic) {
		t.Fatalf("T2 another topic's token: %v", err)
	}
	if err := tbl.WaitForChecked(ctx, mustToken(t, "another-topic")); !errors.Is(err, ktables.ErrTokenTopic) {
		t.Fatalf("T2 another topic's token, checked: %v", err)
	}
}

// SPEC T2, L4: a token for a partition the table has not discovered yet
// makes it look now, not at the next refresh.
func TestWaitForDiscoversPartition(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.WithPartitionRefresh(time.Hour))
	if err := c.CreatePartitions(topic, 4); err != nil {
		t.Fatal(err)
	}
	w := openWriter(t, ctx, c.Transport(), topic)
	k := keyOn(t, 2, 4)
	tok, err := w.SetWithToken(ctx, k, []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if p := tok.Positions()[0].Partition; p != 2 {
		t.Fatalf("token names partition %d", p)
	}
	if err := tbl.WaitFor(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if !tbl.Has(k) || tbl.Stats().Partitions != 4 {
		t.Fatalf("T2 the new partition was not read: has=%v partitions=%d", tbl.Has(k), tbl.Stats().Partitions)
	}
}

// SPEC T2 (bad input): a token beyond a partition's end waits until ctx
// ends; the checking variant says so in one round trip.
func TestWaitForForgedToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := memtransport.NewCluster()
		defer c.Close()
		ctx := context.Background()
		createTopic(t, c, "t", 2)
		tbl, err := ktables.Open(ctx, c.Transport(), "t", ktables.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		defer tbl.Close()
		appendRec(t, c, "t", 1, []byte("a"), []byte("1"))
		ahead := mustToken(t, "t", ktables.Position{Partition: 1, Offset: 1}) // the end is 1
		dctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := tbl.WaitFor(dctx, ahead); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("T2 forged token: %v", err)
		}
		if err := tbl.WaitForChecked(ctx, ahead); !errors.Is(err, ktables.ErrTokenAhead) {
			t.Fatalf("T2 checked, offset at the end: %v", err)
		}
		noPart := mustToken(t, "t", ktables.Position{Partition: 7, Offset: 0})
		if err := tbl.WaitForChecked(ctx, noPart); !errors.Is(err, ktables.ErrTokenAhead) {
			t.Fatalf("T2 checked, no such partition: %v", err)
		}
		genuine := mustToken(t, "t", ktables.Position{Partition: 1, Offset: 0})
		if err := tbl.WaitForChecked(ctx, genuine); err != nil || !tbl.Has("a") {
			t.Fatalf("T2 checked, genuine token: %v", err)
		}
	})
}

// blockingOffsets is a transport whose offsets requests hang until their
// context ends, as during a silent network partition.
type blockingOffsets struct {
	*memtransport.Transport
	block atomic.Bool
}

func (b *blockingOffsets) EndOffsets(ctx context.Context, topic string, parts []int32) (map[int32]int64, error) {
	if b.block.Load() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return b.Transport.EndOffsets(ctx, topic, parts)
}

// SPEC B7: Close and failure end every Barrier and WaitFor in flight at
// once, whatever the network does.
func TestCloseAndFailureEndWaiters(t *testing.T) {
	for _, ending := range []string{"close", "failure"} {
		t.Run(ending, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := memtransport.NewCluster()
				defer c.Close()
				ctx := context.Background()
				tr := &blockingOffsets{Transport: c.Transport()}
				tbl, err := ktables.Open(ctx, tr, "t", ktables.Bytes(), ktables.WithFetchMaxWait(time.Second))
				if err != nil {
					t.Fatal(err)
				}
				defer tbl.Close()
				synctest.Wait()
				tr.block.Store(true)
				forged := mustToken(t, "t", ktables.Position{Partition: 0, Offset: 99})
				waiters := map[string]func() error{
					"Barrier":        func() error { return tbl.Barrier(ctx) },
					"WaitForChecked": func() error { return tbl.WaitForChecked(ctx, forged) },
					"WaitFor":        func() error { return tbl.WaitFor(ctx, forged) },
				}
				errs := make(map[string]chan error)
				for name, fn := range waiters {
					ch := make(chan error, 1)
					errs[name] = ch
					go func() { ch <- fn() }()
				}
				synctest.Wait() // all three hang: two on the network, one on the forged offset
				for name, ch := range errs {
					select {
					case err := <-ch:
						t.Fatalf("%s returned before the end: %v", name, err)
					default:
					}
				}
				start := time.Now()
				want := ktables.ErrClosed
				if ending == "close" {
					tbl.Close()
				} else {
					want = ktables.ErrTableFailed
					c.FailNext(memtransport.OpFetch, 1, transport.ErrAuthorization)
					time.Sleep(time.Second) // (fake time) the parked poll ends; the next one fails
				}
				synctest.Wait()
				for name, ch := range errs {
					select {
					case err := <-ch:
						if !errors.Is(err, want) {
							t.Errorf("B7 %s after %s: %v, want %v", name, ending, err, want)
						}
					default:
						t.Errorf("B7 %s still waits after %s", name, ending)
					}
				}
				if d := time.Since(start); d > time.Second {
					t.Errorf("B7 waiters ended %v after the %s", d, ending)
				}
			})
		})
	}
}

// SPEC B6: a barrier covers partitions added since the table's last
// refresh.
func TestBarrierCoversUndiscoveredPartitions(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.WithPartitionRefresh(time.Hour))
	if err := c.CreatePartitions(topic, 4); err != nil {
		t.Fatal(err)
	}
	w := openWriter(t, ctx, c.Transport(), topic)
	k := keyOn(t, 2, 4)
	if err := w.Set(ctx, k, []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if !tbl.Has(k) {
		t.Fatal("B6 barrier returned before the write on a partition the table had not discovered")
	}
}

// SPEC B6: partitions added empty are covered too, and a barrier waiting
// for them returns once they are discovered, with no record to wake it.
func TestBarrierCoversEmptyNewPartitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := memtransport.NewCluster()
		defer c.Close()
		ctx := context.Background()
		createTopic(t, c, "t", 1)
		tbl, err := ktables.Open(ctx, c.Transport(), "t", ktables.Bytes(),
			ktables.WithFetchMaxWait(100*time.Millisecond), ktables.WithPartitionRefresh(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		defer tbl.Close()
		if err := c.CreatePartitions("t", 4); err != nil {
			t.Fatal(err)
		}
		dctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := tbl.Barrier(dctx); err != nil {
			t.Fatalf("B6 barrier over empty new partitions: %v", err)
		}
		if n := tbl.Stats().Partitions; n != 4 {
			t.Fatalf("B6 the barrier returned with %d partitions read", n)
		}
	})
}

// SPEC B6, B4: listing partitions runs beside the end-offsets request, so
// an idle barrier still costs one round trip.
func TestBarrierListsPartitionsConcurrently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := memtransport.NewCluster()
		defer c.Close()
		ctx := context.Background()
		createTopic(t, c, "t", 3)
		tbl, err := ktables.Open(ctx, c.Transport(), "t", ktables.Bytes(), ktables.WithFetchMaxWait(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		defer tbl.Close()
		synctest.Wait()
		const rtt = 10 * time.Millisecond
		c.SetLatency(memtransport.OpEndOffsets, rtt)
		c.SetLatency(memtransport.OpPartitions, rtt)
		parts := c.Calls(memtransport.OpPartitions)
		start := time.Now()
		if err := tbl.Barrier(ctx); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != rtt {
			t.Fatalf("B6 idle barrier took %v, want one round trip (%v)", d, rtt)
		}
		if c.Calls(memtransport.OpPartitions) != parts+1 {
			t.Fatal("B6 barrier did not list the partitions")
		}
	})
}

// SPEC T3: lag against the high watermarks fetches report, with no extra
// request; last fetch and head confirmation times.
func TestLagFromFetches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := memtransport.NewCluster(memtransport.WithMaxPollRecords(2))
		defer c.Close()
		ctx := context.Background()
		createTopic(t, c, "t", 1)
		tbl, err := ktables.Open(ctx, c.Transport(), "t", ktables.Bytes(), ktables.WithFetchMaxWait(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		defer tbl.Close()
		time.Sleep(150 * time.Millisecond)
		synctest.Wait()
		s := tbl.Stats()
		if s.LastFetch.IsZero() || s.HeadConfirmed.IsZero() || s.Lag != 0 {
			t.Fatalf("T3 idle table: %+v", s)
		}
		c.SetLatency(memtransport.OpFetch, time.Second)
		time.Sleep(200 * time.Millisecond) // the parked poll ends; the next one waits a second
		for i := range 10 {
			appendRec(t, c, "t", 0, []byte("k"+strconv.Itoa(i)), []byte("v"))
		}
		confirmed := tbl.Stats().HeadConfirmed
		ends, parts := c.Calls(memtransport.OpEndOffsets), c.Calls(memtransport.OpPartitions)
		time.Sleep(time.Second) // one fetch of two records arrives
		synctest.Wait()
		s = tbl.Stats()
		if s.Lag != 8 {
			t.Fatalf("T3 lag %d after reading 2 of 10", s.Lag)
		}
		if got := tbl.Lag(); len(got) != 1 || got[0] != (ktables.PartitionLag{Partition: 0, Applied: 2, HighWatermark: 10, Lag: 8}) {
			t.Fatalf("T3 per-partition lag %+v", got)
		}
		if !s.HeadConfirmed.Equal(confirmed) {
			t.Fatal("T3 a fetch that left records behind confirmed the head")
		}
		if c.Calls(memtransport.OpEndOffsets) != ends || c.Calls(memtransport.OpPartitions) != parts {
			t.Fatal("T3 lag tracking made requests")
		}
		c.ClearFaults()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		s = tbl.Stats()
		if s.Lag != 0 || !s.HeadConfirmed.After(confirmed) || tbl.Len() != 10 {
			t.Fatalf("T3 after catching up: %+v len %d", s, tbl.Len())
		}
	})
}

type staleEvent struct {
	stale bool
	at    time.Time
}

// SPEC T4: past the maximum staleness without confirming the head, the
// table says so, logs and calls the hook; it clears itself when fetching
// resumes. Statuses keep their meaning.
func TestMaxStaleness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := memtransport.NewCluster()
		defer c.Close()
		ctx := context.Background()
		var mu sync.Mutex
		var events []staleEvent
		var logs bytes.Buffer
		var logMu sync.Mutex
		logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))
		tbl, err := ktables.Open(ctx, c.Transport(), "t", ktables.Bytes(),
			ktables.WithFetchMaxWait(100*time.Millisecond), ktables.WithRetryBackoff(10*time.Millisecond, 100*time.Millisecond),
			ktables.WithMaxStaleness(2*time.Second), ktables.WithLogger(logger),
			ktables.OnStale(func(stale bool, at time.Time) {
				mu.Lock()
				events = append(events, staleEvent{stale, at})
				mu.Unlock()
			}))
		if err != nil {
			t.Fatal(err)
		}
		defer tbl.Close()
		time.Sleep(5 * time.Second) // idle polls keep confirming the head
		if tbl.Stale() || tbl.MaxStaleness() != 2*time.Second {
			t.Fatal("T4 an idle, healthy table went stale")
		}
		c.FailNext(memtransport.OpFetch, -1, nil) // every fetch fails, retriably
		time.Sleep(1500 * time.Millisecond)
		if tbl.Stale() {
			t.Fatal("T4 stale before the maximum staleness passed")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if !tbl.Stale() || tbl.Status() != ktables.StatusCaughtUp {
			t.Fatalf("T4 stale=%v status=%v after 2.5 s without a fetch", tbl.Stale(), tbl.Status())
		}
		logMu.Lock()
		logged := bytes.Contains(logs.Bytes(), []byte("stale"))
		logMu.Unlock()
		if !logged {
			t.Fatal("T4 going stale was not logged")
		}
		c.ClearFaults()
		time.Sleep(300 * time.Millisecond)
		synctest.Wait()
		if tbl.Stale() {
			t.Fatal("T4 staleness did not clear when fetching resumed")
		}
		mu.Lock()
		defer mu.Unlock()
		if len(events) != 2 || !events[0].stale || events[1].stale || !events[1].at.After(events[0].at) {
			t.Fatalf("T4 hook calls %+v, want stale then fresh", events)
		}
	})
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// SPEC T4, H1: the staleness hook may close the table without a deadlock;
// OnStale without WithMaxStaleness is an option error.
func TestStaleHookMayClose(t *testing.T) {
	if _, err := ktables.Open(context.Background(), memtransport.New(), "t", ktables.Bytes(),
		ktables.OnStale(func(bool, time.Time) {})); !errors.Is(err, ktables.ErrInvalidOption) {
		t.Fatalf("OnStale alone: %v", err)
	}
	if _, err := ktables.Open(context.Background(), memtransport.New(), "t", ktables.Bytes(),
		ktables.WithMaxStaleness(0)); !errors.Is(err, ktables.ErrInvalidOption) {
		t.Fatalf("WithMaxStaleness(0): %v", err)
	}
	synctest.Test(t, func(t *testing.T) {
		c := memtransport.NewCluster()
		defer c.Close()
		var tbl *ktables.Table[[]byte]
		closed := make(chan error, 1)
		tbl, err := ktables.Open(context.Background(), c.Transport(), "t", ktables.Bytes(),
			ktables.WithFetchMaxWait(100*time.Millisecond), ktables.WithMaxStaleness(time.Second),
			ktables.OnStale(func(stale bool, _ time.Time) {
				if stale {
					closed <- tbl.Close()
				}
			}))
		if err != nil {
			t.Fatal(err)
		}
		c.FailNext(memtransport.OpFetch, -1, nil)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		select {
		case err := <-closed:
			if err != nil || tbl.Status() != ktables.StatusClosed {
				t.Fatalf("Close from the hook: %v, status %v", err, tbl.Status())
			}
		default:
			t.Fatal("the hook did not run")
		}
	})
}

// SPEC T1, T2 for grouped tables and writers.
func TestGroupedTokens(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	w, err := ktables.OpenGroupedWriter(ctx, c.Transport(), topic, ktables.String())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	g, err := ktables.OpenGrouped(ctx, c.Transport(), topic, ktables.String())
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	tok, err := w.SetWithToken(ctx, "billing", "host-a", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.WaitFor(ctx, tok); err != nil || !g.Has("billing", "host-a") {
		t.Fatalf("grouped WaitFor: %v", err)
	}
	del, err := w.DeleteWithToken(ctx, "billing", "host-a")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.WaitForChecked(ctx, del); err != nil || g.HasGroup("billing") {
		t.Fatalf("grouped WaitForChecked: %v", err)
	}
	if !g.Position().Covers(del) || g.Stale() || g.MaxStaleness() != 0 || len(g.Lag()) != 1 || g.Health().Topic != topic {
		t.Fatal("grouped freshness accessors")
	}
	if _, err := w.SetWithToken(ctx, "bad\xff", "m", "v"); !errors.Is(err, ktables.ErrInvalidKey) {
		t.Fatalf("invalid group: %v", err)
	}
}

// noWatermarks is a transport that reports no high watermarks, as the
// Batch contract allows.
type noWatermarks struct{ *memtransport.Transport }

func (n noWatermarks) NewFetcher(ctx context.Context, topic string, from map[int32]int64, opts transport.FetchOptions) (transport.Fetcher, error) {
	f, err := n.Transport.NewFetcher(ctx, topic, from, opts)
	return stripWatermarks{f}, err
}

type stripWatermarks struct{ transport.Fetcher }

func (s stripWatermarks) Poll(ctx context.Context) (transport.Batch, error) {
	b, err := s.Fetcher.Poll(ctx)
	b.HighWatermarks = nil
	return b, err
}

// SPEC T3, T4 with a transport that reports no watermarks: lag is unknown
// (0, HighWatermark -1) and an idle long poll confirms the head.
func TestFreshnessWithoutWatermarks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := memtransport.NewCluster()
		defer c.Close()
		ctx := context.Background()
		tbl, err := ktables.Open(ctx, noWatermarks{c.Transport()}, "t", ktables.Bytes(),
			ktables.WithFetchMaxWait(100*time.Millisecond), ktables.WithMaxStaleness(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer tbl.Close()
		appendRec(t, c, "t", 0, []byte("a"), []byte("1"))
		time.Sleep(3 * time.Second)
		synctest.Wait()
		s := tbl.Stats()
		if tbl.Stale() || s.HeadConfirmed.IsZero() || s.Lag != 0 {
			t.Fatalf("T4 idle polls must confirm the head: stale=%v %+v", tbl.Stale(), s)
		}
		if l := tbl.Lag(); len(l) != 1 || l[0].HighWatermark != -1 || l[0].Applied != 1 {
			t.Fatalf("T3 lag without watermarks: %+v", l)
		}
	})
}
