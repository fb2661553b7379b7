package ktables

import (
	"context"
	"testing"
)

// A poll at the head of a busy topic costs no context of its own: polls
// share one until a wake ends it (issue 17).
func TestPollWakerPollsAllocateNothing(t *testing.T) {
	var w pollWaker
	ctx := context.Background()
	_, done := w.arm(ctx, 0)
	done()
	allocs := testing.AllocsPerRun(100, func() {
		pctx, done := w.arm(ctx, 0)
		if pctx.Err() != nil {
			t.Fatal("an unwoken poll's context is done")
		}
		done()
	})
	if allocs != 0 {
		t.Fatalf("arm+done allocates %v times per poll, want 0", allocs)
	}
}

func TestPollWakerWakes(t *testing.T) {
	ctx := context.Background()
	t.Run("before the first poll", func(t *testing.T) {
		var w pollWaker
		w.wake()
		pctx, done := w.arm(ctx, 0)
		if pctx.Err() == nil {
			t.Fatal("a wake before the first poll did not end it")
		}
		done()
		next, done := w.arm(ctx, 0)
		defer done()
		if next.Err() != nil {
			t.Fatal("the poll after the woken one starts ended")
		}
	})
	t.Run("during a poll", func(t *testing.T) {
		var w pollWaker
		pctx, done := w.arm(ctx, 0)
		w.wake()
		if pctx.Err() == nil {
			t.Fatal("a wake did not end the poll in flight")
		}
		done()
		next, done := w.arm(ctx, 0)
		defer done()
		if next.Err() != nil {
			t.Fatal("the poll after the woken one starts ended")
		}
	})
	t.Run("between polls", func(t *testing.T) {
		var w pollWaker
		_, done := w.arm(ctx, 0)
		done()
		w.wake()
		pctx, done := w.arm(ctx, 0)
		if pctx.Err() == nil {
			t.Fatal("a wake between polls was lost")
		}
		done()
		next, done := w.arm(ctx, 0)
		defer done()
		if next.Err() != nil {
			t.Fatal("the poll after the woken one starts ended")
		}
	})
	t.Run("a limited poll", func(t *testing.T) {
		var w pollWaker
		pctx, done := w.arm(ctx, 1<<40)
		w.wake()
		if pctx.Err() == nil {
			t.Fatal("a wake did not end a poll with a limit")
		}
		done()
	})
}
