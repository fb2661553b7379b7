package ktables_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
)

// SPEC B1: every write acked before the call is visible after it.
func TestBarrierReadYourWrites(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.WithPartitions(8))
	w := openWriter(t, ctx, c.Transport(), topic)
	for i := range 100 {
		k := "k" + strconv.Itoa(i)
		if err := w.Set(ctx, k, []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		if err := tbl.Barrier(ctx); err != nil {
			t.Fatal(err)
		}
		if v, ok := tbl.Get(k); !ok || string(v) != strconv.Itoa(i) {
			t.Fatalf("B1 write %s not visible after barrier", k)
		}
	}
	if err := w.Delete(ctx, "k3"); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Barrier(ctx); err != nil || tbl.Has("k3") {
		t.Fatalf("B1 delete not visible after barrier: %v", err)
	}
}

// SPEC B4: an idle, caught-up table answers a barrier with one offsets call,
// without waiting for the fetch long-poll in flight.
func TestIdleBarrierDoesNotWaitForFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := memtransport.NewCluster()
		defer c.Close()
		ctx := context.Background()
		tr := c.Transport()
		topic := "idle"
		tbl, err := ktables.Open(ctx, tr, topic, ktables.Bytes(), ktables.WithFetchMaxWait(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		defer tbl.Close()
		synctest.Wait() // the reader is parked in its hour-long poll
		fetches := c.Calls(memtransport.OpFetch)
		start := time.Now()
		for range 10 {
			if err := tbl.Barrier(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("B4 idle barriers took %v of (fake) time; they waited for something", d)
		}
		if got := c.Calls(memtransport.OpFetch); got != fetches {
			t.Fatalf("B4 barrier triggered fetches: %d -> %d", fetches, got)
		}
		if got := c.Calls(memtransport.OpEndOffsets); got < 10 {
			t.Fatalf("B4 expected one end-offsets call per barrier, saw %d", got)
		}
	})
}

// SPEC B1: writes made after the call are not waited for.
func TestBarrierIgnoresLaterWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := memtransport.NewCluster()
		defer c.Close()
		ctx := context.Background()
		tbl, err := ktables.Open(ctx, c.Transport(), "t", ktables.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		defer tbl.Close()
		synctest.Wait()
		// Offsets are read instantly; the reader then takes a second per fetch.
		c.SetLatency(memtransport.OpFetch, time.Second)
		time.Sleep(time.Second) // (fake time) the parked poll ends; the next one is delayed
		if _, err := c.Append("t", recordKV("a", "1")); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		done := make(chan error, 1)
		go func() { done <- tbl.Barrier(ctx) }()
		synctest.Wait() // barrier snapshotted end offset 1 and waits
		// A later write must not extend the wait.
		if _, err := c.Append("t", recordKV("b", "2")); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !tbl.Has("a") {
			t.Fatal("B1 prior write not visible")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("barrier waited %v: it waited for the later write too", d)
		}
	})
}

// SPEC B2: deadline, cancel, Close racing the wait, misuse after Close.
func TestBarrierErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := memtransport.NewCluster()
		defer c.Close()
		ctx := context.Background()
		tbl, err := ktables.Open(ctx, c.Transport(), "t", ktables.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		c.SetLatency(memtransport.OpFetch, time.Hour)         // nothing gets applied
		time.Sleep(ktables.DefaultFetchMaxWait + time.Second) // (fake time) the parked poll ends; the next one stalls
		if _, err := c.Append("t", recordKV("a", "1")); err != nil {
			t.Fatal(err)
		}

		dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if err := tbl.Barrier(dctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("B2 deadline: %v", err)
		}
		cctx, cancel2 := context.WithCancel(ctx)
		cancel2()
		if err := tbl.Barrier(cctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("B2 cancelled: %v", err)
		}

		done := make(chan error, 1)
		go func() { done <- tbl.Barrier(ctx) }()
		synctest.Wait()
		tbl.Close()
		if err := <-done; !errors.Is(err, ktables.ErrClosed) {
			t.Fatalf("B2 Close racing a waiting barrier: %v", err)
		}
		if err := tbl.Barrier(ctx); !errors.Is(err, ktables.ErrClosed) {
			t.Fatalf("B2 barrier on a closed table: %v", err)
		}
	})
}

// SPEC B5: concurrent barriers resolve independently, each seeing its own
// writes.
func TestConcurrentBarriers(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.WithPartitions(4))
	var wg sync.WaitGroup
	for g := range 32 {
		w := openWriter(t, ctx, c.Transport(), topic)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				k := "g" + strconv.Itoa(g) + "-" + strconv.Itoa(i)
				if err := w.Set(ctx, k, []byte("v")); err != nil {
					t.Error(err)
					return
				}
				if err := tbl.Barrier(ctx); err != nil {
					t.Error(err)
					return
				}
				if !tbl.Has(k) {
					t.Errorf("B5 %s not visible after its barrier", k)
					return
				}
			}
		}()
	}
	wg.Wait()
	if tbl.Len() != 32*20 {
		t.Fatalf("len %d", tbl.Len())
	}
}
