package ktables

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ktables/ktables/transport"
)

// WaitFor returns once the table applied every position of tok, so that
// reads show the writes tok came from (SPEC T2) — whichever process made
// them. A token the table already covers returns at once, without a network
// round trip or an allocation; so does the zero Token.
//
// A partition the table has not discovered yet (the topic grew after open)
// is looked for at once rather than at the next partition refresh. WaitFor
// trusts the token: a position the topic does not have (a forged token, one
// from another cluster or from before the topic was re-created) is never
// reached, and WaitFor waits until ctx ends. Use WaitForChecked to get an
// error instead, at the cost of one round trip.
//
// It returns nil when applied; an error matching ErrTokenTopic for another
// topic's token; ctx's error; ErrClosed if the table is or gets closed; or an
// error matching ErrTableFailed if the reader failed or fails. Close and
// failure end every WaitFor at once (SPEC B7).
func (t *Table[V]) WaitFor(ctx context.Context, tok Token) error {
	if len(t.ob.waiters) > 0 {
		return t.observeWaitFor(ctx, tok, false) // observer.go
	}
	return t.waitFor(ctx, tok, false, nil)
}

// WaitForChecked is WaitFor for tokens that may not be genuine: unless the
// table already covers tok, it first reads the partitions and their end
// offsets (one round trip, like Barrier) and returns an error matching
// ErrTokenAhead when tok names a partition that does not exist or an offset
// at or past its partition's end. Then it waits like WaitFor.
func (t *Table[V]) WaitForChecked(ctx context.Context, tok Token) error {
	if len(t.ob.waiters) > 0 {
		return t.observeWaitFor(ctx, tok, true)
	}
	return t.waitFor(ctx, tok, true, nil)
}

// waitFor is WaitFor (check false) and WaitForChecked (check true); it sets
// *applied, when given, if tok was covered already.
func (t *Table[V]) waitFor(ctx context.Context, tok Token, check bool, applied *bool) error {
	if tok.topic != t.topic && !tok.IsZero() {
		return t.topicError(tok)
	}
	if t.pos.Load().covers(tok) {
		if applied != nil {
			*applied = true
		}
		return nil
	}
	return t.waitForSlow(ctx, tok, check)
}

func (t *Table[V]) topicError(tok Token) error {
	return fmt.Errorf("%w: token of %q given to the table of %q", ErrTokenTopic, tok.topic, t.topic)
}

func (t *Table[V]) waitForSlow(ctx context.Context, tok Token, check bool) error {
	if err := t.usable(); err != nil {
		return err
	}
	if check {
		ends, err := t.headOffsets(ctx)
		if err != nil {
			return err
		}
		for _, p := range tok.pos {
			end, ok := ends[p.Partition]
			if !ok {
				return fmt.Errorf("%w: %q has no partition %d", ErrTokenAhead, t.topic, p.Partition)
			}
			if p.Offset >= end {
				return fmt.Errorf("%w: offset %d of %q partition %d is at or past its end %d",
					ErrTokenAhead, p.Offset, t.topic, p.Partition, end)
			}
		}
	} else if t.pos.Load().lacksPartitionOf(tok) {
		t.discoverSoon()
	}
	return t.waitUntil(ctx, func(p *positions) bool { return p.covers(tok) })
}

// covers reports whether every position of tok is applied: a record at
// offset o is applied once the partition's position is past o.
func (p *positions) covers(tok Token) bool {
	for _, tp := range tok.pos {
		a, ok := p.at[tp.Partition]
		if !ok || a.Load() <= tp.Offset {
			return false
		}
	}
	return true
}

func (p *positions) lacksPartitionOf(tok Token) bool {
	for _, tp := range tok.pos {
		if _, ok := p.at[tp.Partition]; !ok {
			return true
		}
	}
	return false
}

// Position returns the token of everything the table has applied (SPEC T3):
// per partition, the offset of the last record read or skipped. Any table of
// the topic that WaitFor-s it shows at least this table's contents. A
// partition nothing was read from yet is left out.
func (t *Table[V]) Position() Token {
	pos := t.pos.Load()
	tok := Token{topic: t.topic, pos: make([]Position, 0, len(pos.parts))}
	for _, p := range pos.parts {
		if next := pos.at[p].Load(); next > 0 {
			tok.pos = append(tok.pos, Position{Partition: p, Offset: next - 1})
		}
	}
	slices.SortFunc(tok.pos, func(a, b Position) int { return cmp.Compare(a.Partition, b.Partition) })
	return tok
}

// PartitionLag is one partition's applied position against its high
// watermark.
type PartitionLag struct {
	Partition int32
	// Applied is the next offset the table reads: every record below it is
	// applied.
	Applied int64
	// HighWatermark is the partition's end as the table's fetches last
	// reported it; -1 when none reported it yet (or the transport does not).
	HighWatermark int64
	// Lag is HighWatermark - Applied, at least 0; 0 when HighWatermark is
	// unknown.
	Lag int64
}

// Lag returns every partition's lag against the high watermarks the
// table's fetches report (SPEC T3), ascending by partition. It costs no
// request: fetch responses carry the watermarks. Stats().Lag is the total.
func (t *Table[V]) Lag() []PartitionLag {
	pos := t.pos.Load()
	out := make([]PartitionLag, 0, len(pos.parts))
	f := &t.fresh
	f.mu.Lock()
	for _, p := range pos.parts {
		pl := PartitionLag{Partition: p, Applied: pos.at[p].Load(), HighWatermark: -1}
		if hwm, ok := f.hwm[p]; ok {
			pl.HighWatermark = hwm
			pl.Lag = max(0, hwm-pl.Applied)
		}
		out = append(out, pl)
	}
	f.mu.Unlock()
	slices.SortFunc(out, func(a, b PartitionLag) int { return cmp.Compare(a.Partition, b.Partition) })
	return out
}

// freshness is what the table knows about how current it is. The reader
// writes it after each fetch; anyone reads it.
type freshness struct {
	mu     sync.Mutex
	hwm    map[int32]int64 // last reported high watermark per partition
	lag    map[int32]int64 // per partition, as of the last fetch that touched it
	behind int             // partitions whose lag is positive

	// staleness (staleness.go)
	maxStale time.Duration
	onStale  func(bool, time.Time)
	staleMu  sync.Mutex  // orders transitions and hook calls
	stale    atomic.Bool // set and cleared under staleMu
	staleAt  int64       // under staleMu: stats.headAt when the table went stale
	timer    *time.Timer // set before the reader starts
	stopped  atomic.Bool
}

// observeFetch records a completed fetch (SPEC T3): its time, the high
// watermarks it reported, and whether it confirmed the table at the head.
// It runs on the reader goroutine after the batch was applied, and touches
// only the partitions the batch mentions, so catch-up pays nothing per
// record.
func (t *Table[V]) observeFetch(b transport.Batch) {
	now := time.Now()
	t.stats.lastFetch.Store(now.UnixNano())
	if t.fresh.update(t.pos.Load(), b, &t.stats.lag) {
		t.confirmHead(now)
	}
}

// update folds b into the per-partition lag and returns whether the table
// is at the head: no partition behind its known high watermark. Until a
// transport reported any watermark, an idle long poll (nothing returned)
// is what says so.
func (f *freshness) update(pos *positions, b transport.Batch, total *atomic.Int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hwm == nil && b.HighWatermarks == nil {
		return len(b.Records) == 0 && len(b.Next) == 0
	}
	if f.hwm == nil {
		f.hwm = make(map[int32]int64, len(b.HighWatermarks))
		f.lag = make(map[int32]int64, len(b.HighWatermarks))
	}
	var delta int64
	for p, h := range b.HighWatermarks {
		f.hwm[p] = h
		delta += f.refresh(pos, p)
	}
	for p := range b.Next {
		if _, done := b.HighWatermarks[p]; !done {
			delta += f.refresh(pos, p)
		}
	}
	if delta != 0 {
		total.Add(delta)
	}
	return f.behind == 0
}

// refresh recomputes partition p's lag and returns its change.
func (f *freshness) refresh(pos *positions, p int32) int64 {
	h, ok := f.hwm[p]
	a, known := pos.at[p]
	if !ok || !known {
		return 0
	}
	lag := max(0, h-a.Load())
	old := f.lag[p]
	if lag == old {
		return 0
	}
	f.lag[p] = lag
	switch {
	case old == 0:
		f.behind++
	case lag == 0:
		f.behind--
	}
	return lag - old
}
