package ktables_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ktables/ktables"
)

// waitRecorder implements the optional WaitForObserver beside Observer.
type waitRecorder struct {
	ktables.NopObserver
	mu    sync.Mutex
	waits []ktables.WaitForEvent
}

func (r *waitRecorder) WaitedFor(e ktables.WaitForEvent) {
	r.mu.Lock()
	r.waits = append(r.waits, e)
	r.mu.Unlock()
}

var _ ktables.WaitForObserver = (*waitRecorder)(nil)

// Issue 21: WaitFor and WaitForChecked latency reaches an observer that
// implements WaitForObserver; one that does not (recorder) still works and
// hears nothing of it.
func TestObserverWaitFor(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 2)
	wr, plain := &waitRecorder{}, &recorder{}
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.WithObserver(plain), ktables.WithObserver(wr))
	w := openWriter(t, ctx, c.Transport(), topic)

	tok, err := w.SetWithToken(ctx, "k", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tbl.WaitFor(ctx, tok); err != nil { // waits, or finds it applied
		t.Fatal(err)
	}
	if err := tbl.WaitForChecked(ctx, tok); err != nil { // applied by now
		t.Fatal(err)
	}
	other, _ := ktables.NewToken("elsewhere", ktables.Position{Partition: 0, Offset: 1})
	if err := tbl.WaitFor(ctx, other); !errors.Is(err, ktables.ErrTokenTopic) {
		t.Fatalf("another topic's token: %v", err)
	}
	ahead, _ := ktables.NewToken(topic, ktables.Position{Partition: 0, Offset: 1 << 40})
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := tbl.WaitFor(short, ahead); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a token past the end: %v", err)
	}
	if err := tbl.WaitForChecked(ctx, ahead); !errors.Is(err, ktables.ErrTokenAhead) {
		t.Fatalf("checked token past the end: %v", err)
	}

	wr.mu.Lock()
	defer wr.mu.Unlock()
	if len(wr.waits) != 5 {
		t.Fatalf("WaitFor events %+v, want 5", wr.waits)
	}
	for _, e := range wr.waits {
		if e.Source != tbl.Source() || e.Duration < 0 {
			t.Errorf("event %+v: source %v", e, tbl.Source())
		}
	}
	first, checked, foreign, timedOut, rejected := wr.waits[0], wr.waits[1], wr.waits[2], wr.waits[3], wr.waits[4]
	if first.Err != nil || first.Checked {
		t.Errorf("first WaitFor: %+v", first)
	}
	if !checked.Checked || !checked.Applied || checked.Err != nil {
		t.Errorf("WaitForChecked on an applied token: %+v", checked)
	}
	if !errors.Is(foreign.Err, ktables.ErrTokenTopic) || foreign.Applied {
		t.Errorf("another topic's token: %+v", foreign)
	}
	if !errors.Is(timedOut.Err, context.DeadlineExceeded) || timedOut.Duration < 20*time.Millisecond {
		t.Errorf("timed-out WaitFor: %+v", timedOut)
	}
	if !rejected.Checked || !errors.Is(rejected.Err, ktables.ErrTokenAhead) {
		t.Errorf("rejected WaitForChecked: %+v", rejected)
	}
	if len(plain.barriers) != 0 {
		t.Errorf("WaitFor reported as a barrier: %+v", plain.barriers)
	}
}

// The observer seam costs an applied WaitFor nothing when no observer
// implements WaitForObserver: no allocation (issue 18's budget).
func TestWaitForAppliedNoAlloc(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	w := openWriter(t, ctx, c.Transport(), topic)
	tok, err := w.SetWithToken(ctx, "k", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.WithObserver(&recorder{}))
	if err := tbl.WaitFor(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = tbl.WaitFor(ctx, tok) }); n != 0 {
		t.Errorf("%v allocations per applied WaitFor", n)
	}
}
