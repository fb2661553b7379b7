package ktables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ktables/ktables/transport"
)

// sink is what the reader needs of a store: the writes of a replay. Reads
// are the table's business.
type sink[V any] interface {
	// accept tells whether key belongs in the store; rejected keys are
	// counted by the reader and skipped before their value is decoded.
	accept(key string) keyVerdict
	// set stores v under key. key aliases the record it came from and v may
	// too: the sink copies what it keeps (ADR 15).
	set(key string, v V)
	// remove deletes key and returns the value it had.
	remove(key string) (V, bool)
	// trim releases what growth and reserve left spare once catch-up is
	// done.
	trim()
}

// feed is what the reader publishes for the table to read from any
// goroutine: applied positions, a wake-up per applied batch, counters.
type feed struct {
	pos      atomic.Pointer[positions]
	progress notifier
	stats    counters
}

// lifecycle is what the reader tells the table: catch-up done, or a fatal
// error. Both are called on the reader goroutine, at most once each.
type lifecycle interface {
	caughtUpAfter(d time.Duration, records int64)
	fail(err error)
	// observeFetch folds a successful fetch's high watermarks into lag
	// and head confirmation (freshness.go, SPEC T3).
	observeFetch(b transport.Batch)
	// observeBatch and observeRetry report to the table's observers
	// (observer.go); both return at once when there are none.
	observeBatch(records int)
	observeRetry(op Op, err error)
}

// watchHooks is how the reader feeds watchers and TTL expiry
// (watch_log.go): one call per batch and per change, O(changes).
type watchHooks[V any] interface {
	watchBegin()
	watchEnd()
	// watchSet reports false when the record is already older than the
	// table's TTL: it is hidden, not applied (SPEC V5).
	watchSet(key string, v V, rec *transport.Record) bool
	watchDelete(key string, old V, removed bool, rec *transport.Record)
	// watching reports whether some watch is in progress, so a value the
	// change log hands to watchers must not alias a record.
	watching() bool
}

// reader is the table's single writer: it polls the fetcher, applies
// records to the sink, then publishes positions. It owns its state
// (fetcher, positions, gate, counters); everything here runs on the reader
// goroutine.
type reader[V any] struct {
	tr    transport.Transport
	topic string
	opts  transport.FetchOptions
	codec Codec[V]
	keys  KeyFormat // record key bytes to table keys (SPEC K1)
	// cloneValues: the codec's values alias the bytes they decode and the
	// sink does not copy them, so the reader copies first; packed: the sink
	// keeps its own copy of each value, which stored reads back for hooks
	// (ADR 15).
	cloneValues, packed bool
	// concurrentDecode: the codec may decode on several goroutines at
	// once, so large batches are decoded on every core (predecode.go).
	concurrentDecode bool
	pre              predecoded[V]
	stored           func(key string) (V, bool)
	sink             sink[V]
	log              *slog.Logger
	table            lifecycle
	started          time.Time

	onSet, onDelete func(string, V)
	onCaughtUp      func()
	watch           watchHooks[V] // the table's change log for watchers and TTL expiry

	*feed
	fetcher transport.Fetcher
	// gate holds, per partition still catching up, the end offset it must
	// reach; nil once caught up.
	gate map[int32]int64
	// unassigned are positions the fetcher has not accepted yet (its
	// Assign failed); they are offered again before every Poll.
	unassigned map[int32]int64
	newParts   <-chan discovered
	waker      *pollWaker // discovery's way to end a poll early (pollwake.go)
	bo         backoff
	prov       provenance // cross-partition convergence (provenance.go, SPEC M1)
	// grace, when positive, bounds the first Poll: the end of it without a
	// fatal error counts as an answer (see firstFetchGrace).
	grace time.Duration
}

// firstFetchGrace is how long Open of an empty topic waits for the first
// fetch to answer before counting its silence (a long poll with nothing to
// return) as caught up. A broker refusing the fetch (authorization, a
// deleted topic) answers within a round trip.
const firstFetchGrace = 100 * time.Millisecond

func (r *reader[V]) run(ctx context.Context) {
	defer r.fetcher.Close()
	for {
		select {
		case d := <-r.newParts:
			r.addPartitions(d)
		default:
		}
		r.assign(nil)
		b, woke, err := r.poll(ctx)
		// What arrived is applied before the error is looked at, as
		// io.Reader's contract says (SPEC X3).
		if herr := r.apply(b); herr != nil {
			r.table.fail(herr)
			return
		}
		r.table.observeBatch(len(b.Records)) // observer.go: the batch, with the lag it left
		if err == nil && !woke {
			r.bo.reset()
			// Before the gate: whoever wakes on catch-up reads a freshness
			// that already holds the fetch that completed it (SPEC T3).
			r.table.observeFetch(b) // freshness.go: lag and head confirmation
		}
		// A refused fetch proves nothing about catch-up: a table that
		// fails on its first fetch never counts as caught up (SPEC L1).
		if err == nil || !transport.IsFatal(err) {
			if herr := r.checkGate(); herr != nil {
				r.table.fail(herr)
				return
			}
		}
		if err == nil {
			continue
		}
		if !r.recover(ctx, err) {
			return
		}
	}
}

// poll is one Poll. The first may be cut short by the grace, any by a
// wake (pollwake.go): neither is an error, only an early answer. woke
// reports a poll a wake cut short, which confirms nothing about the head.
func (r *reader[V]) poll(ctx context.Context) (_ transport.Batch, woke bool, _ error) {
	grace := r.grace
	r.grace = 0
	pctx, done := r.waker.arm(ctx, grace)
	defer done()
	b, err := r.fetcher.Poll(pctx)
	if pctx.Err() != nil && ctx.Err() == nil {
		woke = grace <= 0 || !errors.Is(pctx.Err(), context.DeadlineExceeded)
		if err != nil && !transport.IsFatal(err) {
			err = nil // the grace or a wake ended the long poll: no news, and no refusal
		}
	}
	return b, woke, err
}

// recover resolves a Poll error: positions out of range move, an unknown
// topic is confirmed, a fatal error fails the table, a transient one waits
// a backoff step on the same session. false means stop.
func (r *reader[V]) recover(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	switch {
	case errors.Is(err, transport.ErrOffsetOutOfRange):
		moved, rerr := r.resetOutOfRange(ctx, err)
		if rerr == nil {
			if moved {
				return true
			}
			// In range again (a leader change?): fetch there again, after
			// a pause so a confused broker cannot make the reader spin.
			return r.bo.sleep(ctx) == nil
		}
		err = rerr
	case errors.Is(err, transport.ErrUnknownTopic):
		err = r.confirmUnknown(ctx, err)
	}
	if ctx.Err() != nil {
		return false
	}
	if transport.IsFatal(err) {
		r.table.fail(err)
		return false
	}
	r.stats.retries.Add(1)
	r.table.observeRetry(OpFetch, err) // observer.go
	r.log.Warn("ktables: transient fetch error; retrying", slog.Any("error", err))
	return r.bo.sleep(ctx) == nil
}

// confirmUnknown decides an unknown-topic fetch error. Real Kafka answers
// UNKNOWN_TOPIC_OR_PARTITION (or UNKNOWN_TOPIC_ID) for a while after a
// topic or partition is created, until every broker has the metadata; so
// the error is fatal only when the topic's metadata confirms it is gone.
func (r *reader[V]) confirmUnknown(ctx context.Context, err error) error {
	_, perr := r.tr.Partitions(ctx, r.topic)
	switch {
	case perr == nil:
		return &lagError{err: err}
	case errors.Is(perr, transport.ErrUnknownTopic):
		return err
	default:
		return perr // could not tell: that error's class decides
	}
}

// lagError is an unknown-topic error of a topic that exists: propagation
// lag, retried.
type lagError struct{ err error }

func (e *lagError) Error() string {
	return e.err.Error() + " (the topic exists: metadata lag; retrying)"
}
func (e *lagError) Unwrap() error { return transport.ErrRetriable }

// resetOutOfRange moves the partitions a fetcher reported out of range to
// the log start, as a Kafka consumer with auto.offset.reset=earliest does,
// unless their position is in range again. The new position is published
// like any other, so a barrier sees it (SPEC X3, R5). moved reports whether
// any position changed.
func (r *reader[V]) resetOutOfRange(ctx context.Context, err error) (moved bool, _ error) {
	pos := r.pos.Load()
	parts := pos.parts
	if te, ok := errors.AsType[*transport.Error](err); ok && len(te.Partitions) > 0 {
		parts = te.Partitions
	}
	starts, serr := r.tr.StartOffsets(ctx, r.topic, parts)
	if serr != nil {
		return false, serr
	}
	ends, eerr := r.tr.EndOffsets(ctx, r.topic, parts)
	if eerr != nil {
		return false, eerr
	}
	to := make(map[int32]int64, len(parts))
	for _, p := range parts {
		a, ok := pos.at[p]
		if !ok {
			continue
		}
		cur := a.Load()
		start, ok1 := starts[p]
		end, ok2 := ends[p]
		if !ok1 || !ok2 {
			continue // not answered: reported again by the next Poll
		}
		if cur >= start && cur <= end {
			to[p] = cur
			continue
		}
		r.log.Warn("ktables: position out of the log; reading from the log start",
			slog.Int("partition", int(p)), slog.Int64("position", cur),
			slog.Int64("log_start", start), slog.Int64("end", end))
		a.Store(start)
		to[p] = start
		moved = true
	}
	if moved {
		r.progress.broadcast()
	}
	r.assign(to)
	return moved, nil
}

// assign hands positions to the fetcher, keeping those it refuses for the
// next try (the next Poll reports what is wrong).
func (r *reader[V]) assign(to map[int32]int64) {
	if len(to) > 0 {
		if r.unassigned == nil {
			r.unassigned = make(map[int32]int64, len(to))
		}
		maps.Copy(r.unassigned, to)
	}
	if len(r.unassigned) == 0 {
		return
	}
	if err := r.fetcher.Assign(r.unassigned); err != nil {
		r.log.Debug("ktables: fetcher refused positions; offering them again", slog.Any("error", err))
		return
	}
	r.unassigned = nil
}

// apply applies a batch to the sink and publishes its positions. It
// returns a *PanicError when a hook panicked: the table fails, its
// contents frozen before that record (SPEC H1).
func (r *reader[V]) apply(b transport.Batch) error {
	r.watch.watchBegin()                               // watch hook (watch_log.go)
	cloneValues := r.cloneValues || r.watch.watching() // fixed for the batch by watchBegin
	defer r.watch.watchEnd()                           // after positions are published
	var applied, tombstones, keyless, keyErrors, foreign, valueErrors int64
	pre := r.predecode(b.Records, cloneValues)
	if pre != nil {
		defer pre.release()
	}
	for i := range b.Records {
		rec := &b.Records[i]
		if rec.Key == nil {
			keyless++
			continue
		}
		// The key aliases the record only while this record is applied:
		// the store copies what it keeps, once (ADR 15), so no key or
		// value pins the client's fetch buffer.
		key, ok := decodeKey(r.keys, rec.Key)
		if !ok {
			keyErrors++
			continue
		}
		switch r.accept(key) {
		case keyInvalid:
			keyErrors++
			continue
		case keyForeign:
			foreign++
			continue
		}
		if rec.Value == nil {
			if !r.admit(key, rec) { // SPEC M1 (provenance.go): an older record from another partition
				continue
			}
			tombstones++
			old, ok := r.sink.remove(key)
			r.watch.watchDelete(key, old, ok, rec) // watch hook (watch_log.go)
			if ok && r.onDelete != nil {
				k := strings.Clone(key) // the hook may keep it
				if err := hook("OnDelete", func() { r.onDelete(k, old) }); err != nil {
					return err
				}
			}
			continue
		}
		var (
			v   V
			err error
		)
		if pre != nil {
			v, err = pre.vals[i], pre.errs[i]
		} else {
			raw := rec.Value
			if cloneValues {
				// The codec's value aliases what it decodes: a store that
				// does not copy, or a watcher that may keep the event's
				// value, gets its own copy (ADR 15).
				raw = bytes.Clone(raw)
			}
			v, err = r.decode(raw)
		}
		if err != nil {
			valueErrors++
			r.log.Debug("ktables: skipping record whose value does not decode",
				slog.String("key", key), slog.Int("partition", int(rec.Partition)),
				slog.Int64("offset", rec.Offset), slog.Any("error", err))
			continue
		}
		if !r.admit(key, rec) { // SPEC M1 (provenance.go): an older record from another partition
			continue
		}
		if !r.watch.watchSet(key, v, rec) { // watch hook (watch_log.go); false: expired (WithTTL)
			continue
		}
		applied++
		r.sink.set(key, v)
		if r.onSet != nil {
			// The hook may keep what it is given: hand it the table's
			// copies, never the record's bytes.
			if r.packed {
				v, _ = r.stored(key)
			}
			k := strings.Clone(key)
			if err := hook("OnSet", func() { r.onSet(k, v) }); err != nil {
				return err
			}
		}
	}
	s := &r.stats
	s.seen.Add(int64(len(b.Records)))
	addNonZero(&s.applied, applied)
	addNonZero(&s.tombstones, tombstones)
	addNonZero(&s.keyless, keyless)
	addNonZero(&s.keyErrors, keyErrors)
	addNonZero(&s.foreign, foreign)
	addNonZero(&s.valueErrors, valueErrors)

	r.provenanceBatchDone() // SPEC M1 (provenance.go): forget provenance every partition passed

	// Positions move only after the store holds the batch: a barrier that
	// sees a position sees every record before it.
	if len(b.Next) > 0 {
		pos := r.pos.Load()
		for p, next := range b.Next {
			if a, ok := pos.at[p]; ok {
				a.Store(next)
			} else {
				r.log.Debug("ktables: transport reported a partition the table does not read", slog.Int("partition", int(p)))
			}
		}
		r.progress.broadcast()
	}
	return nil
}

// hook runs user code, turning a panic into a *PanicError.
func hook(where string, fn func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Where: where, Value: v}
		}
	}()
	fn()
	return nil
}

// decode runs the value codec; a panic counts as a decode error (SPEC H1).
func (r *reader[V]) decode(b []byte) (v V, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("codec panicked: %v", p)
		}
	}()
	return r.codec.Decode(b)
}

// accept runs the store's key check, which may run a user key codec; a
// panic counts as a key decode error (SPEC H1).
func (r *reader[V]) accept(key string) (verdict keyVerdict) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Debug("ktables: key codec panicked; skipping the record", slog.String("key", key), slog.Any("panic", p))
			verdict = keyInvalid
		}
	}()
	return r.sink.accept(key)
}

func addNonZero(c interface{ Add(int64) int64 }, n int64) {
	if n != 0 {
		c.Add(n)
	}
}

// checkGate completes catch-up once every gated partition reached its
// open-time end offset (SPEC L1). It returns a *PanicError when the
// OnCaughtUp hook panicked.
func (r *reader[V]) checkGate() error {
	if r.gate == nil {
		return nil
	}
	pos := r.pos.Load()
	for p, end := range r.gate {
		if a, ok := pos.at[p]; ok && a.Load() >= end {
			delete(r.gate, p)
		}
	}
	if len(r.gate) > 0 {
		return nil
	}
	r.gate = nil
	r.sink.trim()
	d := time.Since(r.started)
	r.stats.catchUpNanos.Store(int64(d))
	// What was replayed into the table, as the Python library counts it:
	// poison and keyless records have counters of their own (SPEC D4).
	r.stats.atCatchUp.Store(r.stats.applied.Load() + r.stats.tombstones.Load())
	r.table.caughtUpAfter(d, r.stats.seen.Load())
	if r.onCaughtUp != nil {
		return hook("OnCaughtUp", r.onCaughtUp)
	}
	return nil
}

// addPartitions starts reading partitions found after open (SPEC L4).
func (r *reader[V]) addPartitions(d discovered) {
	// Discovery on demand (freshness) can report a partition twice before
	// the first report was applied: re-assigning it would rewind it.
	d = r.pos.Load().onlyNew(d)
	if len(d.start) == 0 {
		return
	}
	r.pos.Store(r.pos.Load().with(d.start))
	r.stats.partitions.Store(int64(len(r.pos.Load().parts)))
	if r.gate != nil {
		maps.Copy(r.gate, d.end)
	}
	r.assign(d.start)
	r.log.Info("ktables: reading new partitions", slog.Int("count", len(d.start)),
		slog.Any("partitions", slices.Sorted(maps.Keys(d.start))))
	r.progress.broadcast() // a Barrier waiting for these (empty) partitions re-checks (SPEC B6)
}
