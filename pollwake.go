package ktables

import (
	"context"
	"sync"
	"time"
)

// pollWaker lets another goroutine cut the reader's long poll short.
// Partition discovery hands the reader the partitions it found and wakes
// it, so the long poll (DefaultFetchMaxWait, chosen long for a cheap idle
// reader) never delays reading a new partition (SPEC L4). A wake that finds
// no poll in flight is kept, and the next poll returns at once: the
// partitions handed over before the wake are then taken before the poll
// after it.
type pollWaker struct {
	mu      sync.Mutex
	cancel  context.CancelFunc // the poll in flight; nil between polls
	pending bool
}

// arm returns the context for the next poll: done with ctx, after limit
// when limit is positive, or at a wake; and the function that ends it.
func (w *pollWaker) arm(ctx context.Context, limit time.Duration) (context.Context, func()) {
	var (
		pctx   context.Context
		cancel context.CancelFunc
	)
	if limit > 0 {
		pctx, cancel = context.WithTimeout(ctx, limit)
	} else {
		pctx, cancel = context.WithCancel(ctx)
	}
	w.mu.Lock()
	if w.pending {
		w.pending = false
		cancel()
	}
	w.cancel = cancel
	w.mu.Unlock()
	return pctx, func() {
		w.mu.Lock()
		w.cancel = nil
		w.mu.Unlock()
		cancel()
	}
}

// wake ends the poll in flight, or the next one when none is.
func (w *pollWaker) wake() {
	w.mu.Lock()
	if w.cancel != nil {
		w.cancel()
	} else {
		w.pending = true
	}
	w.mu.Unlock()
}
