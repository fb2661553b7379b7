package ktables_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
)

// Lifecycle races (issue 16, "make faults a permanent part of the suite";
// SPEC L6, B7, H1): run under -race, each must end without deadlock, panic
// or leaked goroutine, every call returning nil or a typed error.

// Cancelling Open while it catches up returns the context's error and
// leaves nothing running.
func TestRaceCancelDuringOpen(t *testing.T) {
	noLeak(t)
	c := newCluster(t)
	topic := topicName(t)
	createTopic(t, c, topic, 2)
	for i := range 50 {
		appendRec(t, c, topic, int32(i%2), []byte("k"+strconv.Itoa(i)), []byte("v"))
	}
	c.SetLatency(memtransport.OpFetch, 20*time.Millisecond) // catch-up takes a while
	ctx, cancel := context.WithCancel(testCtx(t))
	errc := make(chan error, 1)
	go func() {
		tbl, err := ktables.Open(ctx, c.Transport(), topic, ktables.Bytes())
		if err == nil {
			tbl.Close()
		}
		errc <- err
	}()
	eventually(t, "Open fetching", func() bool { return c.Calls(memtransport.OpFetch) > 0 })
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Open cancelled mid catch-up: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Open did not return after its context was cancelled")
	}
}

// Close ends 50 in-flight Barriers at once with ErrClosed (SPEC B7).
func TestRaceCloseDuring50Barriers(t *testing.T) {
	noLeak(t)
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 3)
	tbl := openBytes(t, ctx, c.Transport(), topic)
	c.SetLatency(memtransport.OpEndOffsets, time.Hour) // every barrier stays in flight
	errs := make(chan error, 50)
	for range 50 {
		go func() { errs <- tbl.Barrier(ctx) }()
	}
	eventually(t, "50 barriers in flight", func() bool { return c.Calls(memtransport.OpEndOffsets) >= 50 })
	closeWithin(t, tbl, 5*time.Second)
	for range 50 {
		select {
		case err := <-errs:
			if !errors.Is(err, ktables.ErrClosed) {
				t.Fatalf("B7: Barrier during Close: %v, want ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("B7: a Barrier outlived Close")
		}
	}
	c.ClearFaults()
}

// Sets racing the writer's Close return nil or ErrClosed, and every Set
// after Close returned is ErrClosed.
func TestRaceSetDuringWriterClose(t *testing.T) {
	noLeak(t)
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 2)
	w := openWriter(t, ctx, c.Transport(), topic)
	var wg sync.WaitGroup
	bad := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				err := w.Set(ctx, "k"+strconv.Itoa(g*1000+i), []byte("v"))
				if errors.Is(err, ktables.ErrClosed) {
					return
				}
				if err != nil {
					bad <- err
					return
				}
			}
		})
	}
	eventually(t, "writes flowing", func() bool { return c.Calls(memtransport.OpProduce) > 64 })
	closeWithin(t, w, 5*time.Second)
	wg.Wait()
	close(bad)
	for err := range bad {
		t.Errorf("Set during Close: %v, want nil or ErrClosed", err)
	}
	if err := w.Set(ctx, "late", []byte("v")); !errors.Is(err, ktables.ErrClosed) {
		t.Fatalf("Set after Close: %v, want ErrClosed", err)
	}
}

// Close from a hook while other goroutines Close and Barrier concurrently
// (SPEC H1): every Close returns, the table ends closed.
func TestRaceCloseFromHookWithConcurrentClose(t *testing.T) {
	noLeak(t)
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	var tblp struct {
		sync.Mutex
		t *ktables.Table[[]byte]
	}
	var hookStarted, hookDone atomic.Bool
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.OnSet(func(k string, _ []byte) {
		if k != "stop" {
			return
		}
		hookStarted.Store(true)
		tblp.Lock()
		self := tblp.t
		tblp.Unlock()
		self.Close()
		hookDone.Store(true)
	}))
	tblp.Lock()
	tblp.t = tbl
	tblp.Unlock()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := tbl.Barrier(ctx); err != nil && !errors.Is(err, ktables.ErrClosed) {
				t.Errorf("Barrier: %v", err)
			}
		})
	}
	appendRec(t, c, topic, 0, []byte("stop"), []byte("x"))
	eventually(t, "the hook running or the record applied", func() bool { return hookStarted.Load() || tbl.Len() > 0 })
	wg.Go(func() { closeWithin(t, tbl, 5*time.Second) })
	wg.Wait() // the reader has stopped: the hook ran to its end or never
	if hookStarted.Load() && !hookDone.Load() {
		t.Fatal("H1: Close from the hook did not return")
	}
	if s := tbl.Status(); s != ktables.StatusClosed {
		t.Fatalf("status %v, want Closed", s)
	}
}
