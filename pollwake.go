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
//
// Polls share one cancellable context until a wake ends it: a poll at the
// head of a busy topic (one record at a time) then allocates no context and
// no cancel registration of its own (issue 17).
type pollWaker struct {
	mu     sync.Mutex
	parent context.Context // what ctx derives from
	ctx    context.Context // the polls' context; nil before the first and after a wake ended it
	cancel context.CancelFunc
	// pending is a wake before the first poll, or after the one it ended.
	pending bool
	done    func() // settle, bound once: a method value per poll allocates
}

// arm returns the context for the next poll: done with ctx, after limit
// when limit is positive, or at a wake; and the function that ends it.
func (w *pollWaker) arm(ctx context.Context, limit time.Duration) (context.Context, func()) {
	w.mu.Lock()
	if w.ctx == nil || w.parent != ctx {
		if w.cancel != nil {
			w.cancel() // another parent: release the old one's registration
		}
		w.parent = ctx
		w.ctx, w.cancel = context.WithCancel(ctx)
	}
	if w.pending {
		w.pending = false
		w.cancel()
	}
	pctx := w.ctx
	if w.done == nil {
		w.done = w.settle
	}
	done := w.done
	w.mu.Unlock()
	if limit > 0 {
		tctx, cancel := context.WithTimeout(pctx, limit)
		return tctx, func() { cancel(); done() }
	}
	return pctx, done
}

// settle ends a poll: a context a wake ended is dropped, so the next poll
// gets a fresh one. A wake after the poll returned and before settle is
// absorbed here, which loses nothing: its partitions were handed over
// before it, and the reader takes them before its next poll.
func (w *pollWaker) settle() {
	w.mu.Lock()
	if w.ctx != nil && w.ctx.Err() != nil {
		w.ctx, w.cancel = nil, nil
	}
	w.mu.Unlock()
}

// wake ends the poll in flight, or the next one when none is.
func (w *pollWaker) wake() {
	w.mu.Lock()
	if w.cancel != nil {
		w.cancel() // between polls: the next arm returns it ended
	} else {
		w.pending = true
	}
	w.mu.Unlock()
}
