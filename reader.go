package ktables

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unsafe"

	"github.com/ktables/ktables/transport"
)

// reader is the table's single writer: it polls the fetcher, applies
// records to the store, then publishes positions. Everything here runs on
// the reader goroutine.
type reader[V any] struct {
	t       *Table[V]
	fetcher transport.Fetcher
	// gate holds, per partition still catching up, the end offset it must
	// reach; nil once caught up.
	gate map[int32]int64
	bo   backoff
}

func (r *reader[V]) run(ctx context.Context) {
	t := r.t
	defer t.wg.Done()
	defer func() {
		if r.fetcher != nil {
			r.fetcher.Close()
		}
	}()
	for {
		select {
		case d := <-t.newParts:
			r.addPartitions(d)
		default:
		}
		if r.fetcher == nil && !r.reopen(ctx) {
			return
		}
		b, err := r.fetcher.Poll(ctx)
		if err != nil {
			if !r.handle(ctx, err) {
				return
			}
			continue
		}
		r.bo.reset()
		r.apply(b)
		r.checkGate()
	}
}

// handle deals with a Poll error: false means stop.
func (r *reader[V]) handle(ctx context.Context, err error) bool {
	t := r.t
	if ctx.Err() != nil {
		return false
	}
	if transport.IsFatal(err) {
		t.fail(err)
		return false
	}
	t.stats.retries.Add(1)
	t.log.Warn("ktables: transient fetch error; resuming from applied positions", slog.Any("error", err))
	// A fresh session from the applied positions loses nothing, whatever
	// state the failed one was in.
	r.fetcher.Close()
	r.fetcher = nil
	return r.bo.sleep(ctx) == nil
}

// reopen starts a new fetch session at the applied positions.
func (r *reader[V]) reopen(ctx context.Context) bool {
	t := r.t
	for {
		f, err := t.tr.NewFetcher(ctx, t.topic, t.pos.Load().current(), t.fetchOptions())
		if err == nil {
			r.fetcher = f
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if transport.IsFatal(err) {
			t.fail(err)
			return false
		}
		t.stats.retries.Add(1)
		t.log.Warn("ktables: cannot reopen fetch session; retrying", slog.Any("error", err))
		if r.bo.sleep(ctx) != nil {
			return false
		}
	}
}

func (r *reader[V]) apply(b transport.Batch) {
	t := r.t
	var applied, tombstones, keyless, keyErrors, foreign, valueErrors int64
	for i := range b.Records {
		rec := &b.Records[i]
		if rec.Key == nil {
			keyless++
			continue
		}
		// The key aliases the record only while this record is applied:
		// the store copies what it keeps, once (ADR 7), so no key or
		// value pins the client's fetch buffer.
		key := unsafe.String(unsafe.SliceData(rec.Key), len(rec.Key))
		switch t.store.accept(key) {
		case keyInvalid:
			keyErrors++
			continue
		case keyForeign:
			foreign++
			continue
		}
		if rec.Value == nil {
			tombstones++
			old, ok := t.store.remove(key)
			if ok && t.onDelete != nil {
				t.onDelete(strings.Clone(key), old)
			}
			continue
		}
		raw := rec.Value
		if t.cloneValues {
			raw = bytes.Clone(raw)
		}
		v, err := t.codec.Decode(raw)
		if err != nil {
			valueErrors++
			t.log.Debug("ktables: skipping record whose value does not decode",
				slog.String("key", key), slog.Int("partition", int(rec.Partition)),
				slog.Int64("offset", rec.Offset), slog.Any("error", err))
			continue
		}
		applied++
		t.store.set(key, v)
		if t.onSet != nil {
			// The hook may keep what it is given: hand it the table's
			// copies, never the record's bytes.
			if t.packed {
				v, _ = t.store.get(key)
			}
			t.onSet(strings.Clone(key), v)
		}
	}
	s := &t.stats
	s.seen.Add(int64(len(b.Records)))
	addNonZero(&s.applied, applied)
	addNonZero(&s.tombstones, tombstones)
	addNonZero(&s.keyless, keyless)
	addNonZero(&s.keyErrors, keyErrors)
	addNonZero(&s.foreign, foreign)
	addNonZero(&s.valueErrors, valueErrors)

	// Positions move only after the store holds the batch: a barrier that
	// sees a position sees every record before it.
	if len(b.Next) > 0 {
		pos := t.pos.Load()
		for p, next := range b.Next {
			if a, ok := pos.at[p]; ok {
				a.Store(next)
			} else {
				t.log.Debug("ktables: transport reported a partition the table does not read", slog.Int("partition", int(p)))
			}
		}
		t.progress.broadcast()
	}
}

func addNonZero(c interface{ Add(int64) int64 }, n int64) {
	if n != 0 {
		c.Add(n)
	}
}

// checkGate completes catch-up once every gated partition reached its
// open-time end offset (SPEC L1).
func (r *reader[V]) checkGate() {
	if r.gate == nil {
		return
	}
	pos := r.t.pos.Load()
	for p, end := range r.gate {
		if a, ok := pos.at[p]; ok && a.Load() >= end {
			delete(r.gate, p)
		}
	}
	if len(r.gate) > 0 {
		return
	}
	r.gate = nil
	t := r.t
	t.store.trim()
	d := time.Since(t.openedAt)
	t.stats.catchUpNanos.Store(int64(d))
	t.stats.atCatchUp.Store(t.stats.seen.Load())
	if t.status.CompareAndSwap(int32(StatusLoading), int32(StatusCaughtUp)) ||
		t.status.CompareAndSwap(int32(StatusDegraded), int32(StatusCaughtUp)) {
		t.log.Info("ktables: caught up", slog.Duration("took", d), slog.Int64("records", t.stats.seen.Load()))
	}
	close(t.caughtUp)
	if t.cfg.onCaughtUp != nil {
		t.cfg.onCaughtUp()
	}
}

// discovered carries partitions found after open (SPEC L4).
type discovered struct {
	start, end map[int32]int64
}

func (r *reader[V]) addPartitions(d discovered) {
	t := r.t
	t.pos.Store(t.pos.Load().with(d.start))
	t.stats.partitions.Store(int64(len(t.pos.Load().parts)))
	if r.gate != nil {
		for p, end := range d.end {
			r.gate[p] = end
		}
	}
	if r.fetcher != nil {
		if err := r.fetcher.Assign(d.start); err != nil {
			// The next Poll fails the same way and the reader handles it.
			t.log.Warn("ktables: cannot assign new partitions", slog.Any("error", err))
		}
	}
	t.log.Info("ktables: reading new partitions", slog.Int("count", len(d.start)))
}

// watchPartitions looks for partitions added after open and hands them to
// the reader. Errors are left for the next tick: the reader reports what
// matters (a deleted topic fails its fetch).
func (t *Table[V]) watchPartitions(ctx context.Context) {
	defer t.wg.Done()
	tick := time.NewTicker(t.cfg.partitionRefresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		d, err := t.newPartitions(ctx)
		if err != nil {
			if ctx.Err() == nil {
				t.log.Debug("ktables: partition refresh failed", slog.Any("error", err))
			}
			continue
		}
		if len(d.start) == 0 {
			continue
		}
		select {
		case t.newParts <- d:
		case <-ctx.Done():
			return
		}
	}
}

func (t *Table[V]) newPartitions(ctx context.Context) (discovered, error) {
	var d discovered
	parts, err := t.tr.Partitions(ctx, t.topic)
	if err != nil {
		return d, err
	}
	known := t.pos.Load().at
	var fresh []int32
	for _, p := range parts {
		if _, ok := known[p]; !ok {
			fresh = append(fresh, p)
		}
	}
	if len(fresh) == 0 {
		return d, nil
	}
	if d.start, err = t.tr.StartOffsets(ctx, t.topic, fresh); err != nil {
		return d, err
	}
	d.end, err = t.tr.EndOffsets(ctx, t.topic, fresh)
	return d, err
}

func isUnknownTopic(err error) bool { return errors.Is(err, transport.ErrUnknownTopic) }
