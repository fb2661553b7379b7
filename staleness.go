package ktables

import (
	"fmt"
	"log/slog"
	"time"
)

// WithMaxStaleness sets how long a table may go without confirming it is at
// the head of its topic (SPEC T4). Past d the table is stale: Stale reports
// true, a warning is logged, the OnStale hook runs, and health readiness
// fails. It clears itself as soon as a fetch confirms the head again.
//
// The head is confirmed by a completed fetch that leaves no partition behind
// the high watermarks reported (or, for a transport that reports none, by a
// long poll that found nothing new). A live table confirms it on every fetch,
// at least once per long poll; unless WithFetchMaxWait is given, the long
// poll is shortened to a quarter of d, so a quiet table confirms it four
// times per bound. The clock runs from Open: a table still replaying after d
// is stale too.
//
// Staleness is a flag beside Status, not a status of its own: a stale table
// is still caught up (or degraded) and keeps serving; it only says its copy
// may be old. Default: off.
func WithMaxStaleness(d time.Duration) Option {
	return newOption("WithMaxStaleness", scopeTable, func(c *config) error {
		c.maxStaleness = d
		return positive(d)
	})
}

// OnStale registers a hook called when the table becomes stale (stale true;
// confirmed is when the head was last confirmed, or when Open began) and when
// it is fresh again (stale false; confirmed is now). Calls are serialized and
// alternate, starting with true; they run on a timer goroutine or the reader
// goroutine, so the hook must not block. A hook that panics is logged, not
// propagated. It needs WithMaxStaleness.
func OnStale(fn func(stale bool, confirmed time.Time)) Option {
	return newOption("OnStale", scopeTable, func(c *config) error {
		if fn == nil {
			return fmt.Errorf("nil hook")
		}
		c.onStale = fn
		return nil
	})
}

// Stale reports whether the table went longer than WithMaxStaleness without
// confirming it is at the head (SPEC T4). Always false without that option.
func (t *Table[V]) Stale() bool { return t.fresh.stale.Load() }

// MaxStaleness returns the WithMaxStaleness setting, 0 when off.
func (t *Table[V]) MaxStaleness() time.Duration { return t.fresh.maxStale }

func (f *freshness) init(cfg config) error {
	if cfg.onStale != nil && cfg.maxStaleness == 0 {
		return optionErr("OnStale", "needs WithMaxStaleness")
	}
	f.maxStale, f.onStale = cfg.maxStaleness, cfg.onStale
	return nil
}

// armStaleness starts the staleness clock, measured from when Open began;
// Open calls it just before the reader starts.
func (t *Table[V]) armStaleness() {
	f := &t.fresh
	if f.maxStale == 0 {
		return
	}
	f.staleMu.Lock()
	defer f.staleMu.Unlock()
	f.timer = time.AfterFunc(f.maxStale, t.checkStale)
}

// lastHead is when the head was last confirmed, or when Open began.
func (t *Table[V]) lastHead() (time.Time, int64) {
	n := t.stats.headAt.Load()
	if n == 0 {
		return t.openedAt, 0
	}
	return time.Unix(0, n), n
}

// checkStale runs when the clock may have run out, and when a fetch
// confirmed the head of a stale table. Every transition and hook call
// happens here, on timer goroutines serialized by staleMu, and never on the
// reader: a hook may call Close, which waits for the reader, without a
// deadlock (SPEC H1). Confirmations only store a time, so the timer re-arms
// itself for what is left instead of being reset on every fetch.
func (t *Table[V]) checkStale() {
	f := &t.fresh
	f.staleMu.Lock()
	defer f.staleMu.Unlock()
	if f.stopped.Load() {
		return
	}
	last, n := t.lastHead()
	if f.stale.Load() {
		if n == f.staleAt {
			return // no confirmation since we went stale
		}
		f.stale.Store(false)
		f.timer.Reset(max(0, f.maxStale-time.Since(last)))
		t.log.Info("ktables: table is fresh again: fetching confirmed the head")
		t.callOnStale(false, last)
		return
	}
	if left := f.maxStale - time.Since(last); left > 0 {
		f.timer.Reset(left)
		return
	}
	f.stale.Store(true)
	// A confirmation racing us either sees stale (and wakes us again) or
	// stored its time before this load: then we are not stale after all.
	if t.stats.headAt.Load() != n {
		f.stale.Store(false)
		f.timer.Reset(f.maxStale)
		return
	}
	f.staleAt = n
	t.log.Warn("ktables: table is stale: no confirmation that it is at the head",
		slog.Duration("max_staleness", f.maxStale), slog.Time("head_confirmed", last),
		slog.Int64("lag", t.stats.lag.Load()))
	t.callOnStale(true, last)
}

// confirmHead records that a fetch found the table at the head. It runs on
// the reader goroutine after every such fetch: one atomic store and one
// load, and for a stale table a timer wake-up that clears it.
func (t *Table[V]) confirmHead(now time.Time) {
	t.stats.headAt.Store(now.UnixNano())
	if f := &t.fresh; f.stale.Load() {
		f.timer.Reset(0)
	}
}

func (t *Table[V]) callOnStale(stale bool, at time.Time) {
	t.observeStale(stale, at) // observer.go
	fn := t.fresh.onStale
	if fn == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			t.log.Error("ktables: OnStale hook panicked", slog.Any("panic", v))
		}
	}()
	fn(stale, at)
}

// stop ends the staleness clock; Close calls it. It takes no lock, since a
// hook running under staleMu may be what called Close.
func (f *freshness) stop() {
	f.stopped.Store(true)
	if f.timer != nil {
		f.timer.Stop()
	}
}
