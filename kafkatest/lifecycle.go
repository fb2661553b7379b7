package kafkatest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ktables/ktables"
)

// Lifecycle races over the wire (issue 16, SPEC L6, B7, H1), part of
// RunReliability: no deadlock, no panic, no leaked goroutine, typed errors.

// raceCancelDuringOpen cancels Open while it catches up.
func raceCancelDuringOpen(t *testing.T, a Adapter) {
	_, seeds := StartCluster(t)
	ctx := reliabilityCtx(t, 60*time.Second)
	tr := openTransport(t, a, seeds)
	topic := Topic(t)
	w, err := ktables.OpenWriter(ctx, tr, topic, ktables.Bytes(), ktables.WithPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := range 300 {
		if err := w.Set(ctx, "k"+strconv.Itoa(i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	reader := openTransport(t, a, seeds)
	for _, after := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
		octx, cancel := context.WithCancel(ctx)
		time.AfterFunc(after, cancel) // cancel at varying points of the open sequence
		tbl, err := ktables.Open(octx, reader, topic, ktables.Bytes())
		cancel()
		switch {
		case err == nil:
			tbl.Close() // opened before the cancel: fine
		case !errors.Is(err, context.Canceled):
			t.Fatalf("Open cancelled after %s: %v, want context.Canceled", after, err)
		}
	}
}

// raceCloseDuringBarriers closes a table with 50 Barriers in flight.
func raceCloseDuringBarriers(t *testing.T, a Adapter) {
	_, seeds := StartCluster(t)
	ctx := reliabilityCtx(t, 60*time.Second)
	tr := openTransport(t, a, seeds)
	topic := Topic(t)
	w, err := ktables.OpenWriter(ctx, tr, topic, ktables.Bytes(), ktables.WithPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tbl, err := ktables.Open(ctx, openTransport(t, a, seeds), topic, ktables.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var started sync.WaitGroup
	started.Add(50)
	for range 50 {
		wg.Go(func() {
			started.Done()
			for {
				err := tbl.Barrier(ctx)
				if errors.Is(err, ktables.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("B7: Barrier racing Close: %v, want nil or ErrClosed", err)
					return
				}
			}
		})
	}
	started.Wait()
	if err := w.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { tbl.Close(); close(closed) }()
	waitDone(t, closed, "Close with 50 Barriers in flight")
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	waitDone(t, done, "the Barriers to end after Close (B7)")
}

// raceCloseFromHook closes the table from OnSet while another goroutine
// closes it too (SPEC H1).
func raceCloseFromHook(t *testing.T, a Adapter) {
	_, seeds := StartCluster(t)
	ctx := reliabilityCtx(t, 60*time.Second)
	tr := openTransport(t, a, seeds)
	topic := Topic(t)
	w, err := ktables.OpenWriter(ctx, tr, topic, ktables.Bytes(), ktables.WithPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var mu sync.Mutex
	var self *ktables.Table[[]byte]
	hooked := make(chan struct{})
	tbl, err := ktables.Open(ctx, openTransport(t, a, seeds), topic, ktables.Bytes(), ktables.OnSet(func(k string, _ []byte) {
		if k != "stop" {
			return
		}
		mu.Lock()
		me := self
		mu.Unlock()
		me.Close()
		close(hooked)
	}))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	self = tbl
	mu.Unlock()
	if err := w.Set(ctx, "stop", []byte("x")); err != nil {
		t.Fatal(err)
	}
	waitDone(t, hooked, "Close from the OnSet hook (H1)")
	closed := make(chan struct{})
	go func() { tbl.Close(); close(closed) }()
	waitDone(t, closed, "a second Close after the hook's")
	if err := tbl.Barrier(ctx); !errors.Is(err, ktables.ErrClosed) {
		t.Fatalf("Barrier after Close: %v, want ErrClosed", err)
	}
}

// raceSetDuringWriterClose closes a writer under concurrent Sets.
func raceSetDuringWriterClose(t *testing.T, a Adapter) {
	_, seeds := StartCluster(t)
	ctx := reliabilityCtx(t, 60*time.Second)
	topic := Topic(t)
	w, err := ktables.OpenWriter(ctx, openTransport(t, a, seeds), topic, ktables.Bytes(), ktables.WithPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var ok sync.WaitGroup
	ok.Add(8)
	for g := range 8 {
		wg.Go(func() {
			first := true
			for i := 0; ; i++ {
				err := w.Set(ctx, "k"+strconv.Itoa(g*100000+i), []byte("v"))
				if first {
					first = false
					ok.Done()
				}
				if errors.Is(err, ktables.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Set racing Close: %v, want nil or ErrClosed", err)
					return
				}
			}
		})
	}
	ok.Wait() // every goroutine is writing
	closed := make(chan struct{})
	go func() { w.Close(); close(closed) }()
	waitDone(t, closed, "writer Close under concurrent Sets")
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	waitDone(t, done, "the Sets to end after Close")
	if err := w.Set(ctx, "late", []byte("v")); !errors.Is(err, ktables.ErrClosed) {
		t.Fatalf("Set after Close: %v, want ErrClosed", err)
	}
}

func waitDone(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(15 * time.Second):
		t.Fatalf("deadlock? waited 15 s for %s", what)
	}
}
