package ktables

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ktables/ktables/transport"
)

// Table is one Kafka topic materialized in memory as a last-write-wins map
// (the GlobalKTable shape): Open replays the topic from the log start of every
// partition, then a reader goroutine keeps applying new records until Close.
//
// Reads (Get, Has, Len, All, Snapshot) are served from memory, never touch
// the network and are safe from any number of goroutines while the reader
// applies updates.
type Table[V any] struct {
	topic string
	tr    transport.Transport
	codec Codec[V]
	cfg   config
	log   *slog.Logger
	store store[V]
	keys  KeyFormat // record key bytes to table keys (SPEC K1)
	// cloneValues: the codec's values alias the bytes they decode and the
	// store does not copy them, so the reader copies first (ADR 15).
	cloneValues bool
	// packed: the store keeps its own copy of each value, which hooks get.
	packed bool
	// direct is the packed store itself when there is one, so Get calls it
	// without the interface call and wrapper in between (issue 17: calls are
	// a measurable share of a Get).
	direct packedMap

	onSet    func(string, V)
	onDelete func(string, V)

	// feed is the reader's published state (positions, progress,
	// counters), read here by Barrier and Stats.
	feed
	status   statusCell
	changes  changeLog[V] // watchers and TTL expiry (watch_log.go)
	openedAt time.Time
	tsType   TimestampType // set during Open (timestamptype.go)

	errMu sync.Mutex
	err   error

	caughtUp chan struct{} // closed when catch-up completes
	failed   chan struct{} // closed when the reader fails
	closed   chan struct{} // closed by Close

	newParts chan discovered // partitions found after open, to the reader
	discover chan struct{}   // freshness.go: Barrier/WaitFor ask for discovery now (SPEC B6, T2)
	waker    pollWaker       // cuts the reader's long poll short for new partitions
	fresh    freshness       // freshness.go: lag, head confirmation, staleness (SPEC T3, T4)
	ob       observing       // observer.go
	cancel   context.CancelFunc
	wg       sync.WaitGroup // the partition watcher
	// readerID is the reader goroutine's id; readerDone is closed when it
	// has stopped. Close from a hook runs on the reader and must not wait
	// for it (SPEC H1).
	readerID   atomic.Uint64
	readerDone chan struct{}

	closeOnce  sync.Once
	finishOnce sync.Once
	closeErr   error
}

// positions maps each known partition to the position the reader applied up
// to (the next offset to read). It is replaced, never mutated, when
// partitions are added; the counters it points to are shared across copies.
type positions struct {
	parts []int32
	at    map[int32]*atomic.Int64
}

func (p *positions) with(start map[int32]int64) *positions {
	next := &positions{at: make(map[int32]*atomic.Int64, len(p.at)+len(start))}
	for _, id := range p.parts {
		next.parts = append(next.parts, id)
		next.at[id] = p.at[id]
	}
	for id, off := range start {
		if _, ok := next.at[id]; ok {
			continue
		}
		a := new(atomic.Int64)
		a.Store(off)
		next.parts = append(next.parts, id)
		next.at[id] = a
	}
	return next
}

// reached reports whether every partition in targets has been applied up
// to its target.
// current returns a copy of the applied positions.
func (p *positions) current() map[int32]int64 {
	out := make(map[int32]int64, len(p.at))
	for id, a := range p.at {
		out[id] = a.Load()
	}
	return out
}

func (p *positions) reached(targets map[int32]int64) bool {
	for id, end := range targets {
		a, ok := p.at[id]
		if !ok || a.Load() < end {
			return false
		}
	}
	return true
}

// Open materializes topic into a new Table (SPEC L1). It ensures the topic
// (unless WithoutEnsureTopic), reads the partitions and their end offsets,
// and replays from the log start. It returns when the table has caught up
// with those end offsets, or when the catch-up timeout passes: then the table
// serves what it has, with status StatusDegraded, and keeps reading.
//
// Open fails, leaving nothing running, on bad arguments or options
// (ErrInvalidOption, before any network call), a missing topic when topic
// creation is disabled, a fatal error during catch-up, or ctx ending.
//
// The caller keeps ownership of tr unless WithOwnedTransport is given.
func Open[V any](ctx context.Context, tr transport.Transport, topic string, codec Codec[V], opts ...Option) (*Table[V], error) {
	cfg, err := buildConfig(forTable, opts)
	if err != nil {
		return nil, err
	}
	t, err := newTable(tr, topic, codec, newFlatStore(codec), cfg)
	if err != nil {
		return nil, err
	}
	if err := t.start(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

func newTable[V any](tr transport.Transport, topic string, codec Codec[V], st store[V], cfg config) (*Table[V], error) {
	if tr == nil {
		return nil, optionErr("transport", "nil transport")
	}
	if codec == nil {
		return nil, optionErr("codec", "nil codec")
	}
	if err := ValidateTopicName(topic); err != nil {
		return nil, err
	}
	t := &Table[V]{
		topic:    topic,
		tr:       tr,
		codec:    codec,
		cfg:      cfg,
		log:      cfg.logger.With(slog.String("topic", topic)),
		store:    st,
		keys:     cfg.keyFormat,
		caughtUp: make(chan struct{}),
		failed:   make(chan struct{}),
		closed:   make(chan struct{}),
		newParts: make(chan discovered, 1), // buffered: discovery wakes the reader after handing over (pollwake.go)
		discover: make(chan struct{}, 1),
	}
	if c, ok := st.(interface{ copiesValues() bool }); ok {
		t.packed = c.copiesValues()
	}
	if d, ok := st.(interface{ packedMapOf() packedMap }); ok && packedValue[V]() {
		t.direct = d.packedMapOf()
	}
	t.cloneValues = !t.packed && keepsBytes(codec)
	var err error
	if t.onSet, t.onDelete, err = resolveHooks[V](&cfg); err != nil {
		return nil, err
	}
	t.ob.init(&cfg, SourceTable, topic, t.log) // observer.go
	t.pos.Store(&positions{at: map[int32]*atomic.Int64{}})
	if err := t.fresh.init(cfg); err != nil { // staleness.go
		return nil, err
	}
	return t, nil
}

// start runs the open sequence; on error everything it started is stopped.
func (t *Table[V]) start(ctx context.Context) error {
	t.openedAt = time.Now()
	octx, cancel := context.WithTimeout(ctx, t.cfg.catchUpTimeout)
	defer cancel()

	init, err := t.initialOffsets(octx)
	if err != nil {
		return t.openError(ctx, octx, err)
	}
	t.pos.Store(t.pos.Load().with(init.start))
	t.stats.partitions.Store(int64(len(init.start)))
	var toReplay int64
	for p, end := range init.end {
		toReplay += max(0, end-init.start[p])
	}
	t.store.reserve(int(toReplay))

	var f transport.Fetcher
	fopts := t.fetchOptions()
	fopts.Ends = init.end // which partitions have records waiting
	err = retry(octx, newBackoff(&t.cfg), transport.IsRetriable, func(ctx context.Context) (err error) {
		f, err = t.tr.NewFetcher(ctx, t.topic, init.start, fopts)
		return err
	})
	switch {
	case err == nil:
	case octx.Err() != nil && ctx.Err() == nil && !transport.IsFatal(err):
		// The offsets were read, so the topic is reachable: serve a
		// Degraded table that keeps trying to fetch (SPEC L1, issue 16.12).
		t.log.Warn("ktables: could not start fetching within the catch-up timeout; retrying in the background", slog.Any("error", err))
		f = newLateFetcher(t.tr, t.topic, init.start, t.fetchOptions())
	default:
		return t.openError(ctx, octx, fmt.Errorf("start fetching: %w", err))
	}

	rctx, rcancel := context.WithCancel(context.Background())
	t.cancel = rcancel
	r := t.newReader(f, init.end)
	if t.pos.Load().reached(init.end) {
		// An empty topic is caught up as soon as the first fetch answers
		// without a fatal error, so that a refused fetch fails Open
		// (SPEC L1). Its long poll is not waited for: a broker answers
		// a refusal at once.
		r.grace = firstFetchGrace
		if w := t.cfg.fetchMaxWait; w > 0 {
			r.grace = min(r.grace, w)
		}
	}
	t.readerDone = make(chan struct{})
	started := make(chan struct{})
	go func() {
		defer close(t.readerDone)
		t.readerID.Store(goroutineID())
		close(started)
		r.run(rctx)
		if t.isClosed() {
			t.finish() // Close was called from a hook and could not wait
		}
	}()
	<-started
	t.armStaleness() // staleness.go: from here on Close stops it (SPEC T4)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		t.watchPartitions(rctx)
	}()

	select {
	case <-t.caughtUp:
		return nil
	case <-t.failed:
		cause := t.Err()
		t.Close()
		return fmt.Errorf("ktables: open %q: catch-up failed: %w", t.topic, cause)
	case <-t.closed:
		// A hook closed the table during catch-up (SPEC H1).
		t.Close()
		return fmt.Errorf("ktables: open %q: %w", t.topic, ErrClosed)
	case <-octx.Done():
		if ctx.Err() != nil {
			t.Close()
			return fmt.Errorf("ktables: open %q: %w", t.topic, ctx.Err())
		}
		if _, ok := t.moveStatus(StatusDegraded); ok {
			t.log.Warn("ktables: catch-up timeout passed; serving a partial table while catching up",
				slog.Duration("timeout", t.cfg.catchUpTimeout))
		}
		return nil
	}
}

// openError explains why Open gave up: the caller's context, the catch-up
// timeout, or the last transport error — keeping that error in the chain
// even when a deadline ended the retries, since it says what was wrong.
func (t *Table[V]) openError(ctx, octx context.Context, err error) error {
	switch {
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("ktables: open %q: %w (last error: %w)", t.topic, ctx.Err(), err)
	case ctx.Err() != nil:
		return fmt.Errorf("ktables: open %q: %w", t.topic, ctx.Err())
	case octx.Err() != nil:
		return fmt.Errorf("ktables: open %q: not reachable within the catch-up timeout (%s): %w", t.topic, t.cfg.catchUpTimeout, err)
	}
	return fmt.Errorf("ktables: open %q: %w", t.topic, err)
}

type openOffsets struct {
	start, end map[int32]int64
}

// initialOffsets ensures the topic and reads partitions, start and end
// offsets, retrying transient errors until ctx ends.
func (t *Table[V]) initialOffsets(ctx context.Context) (openOffsets, error) {
	var out openOffsets
	bo := newBackoff(&t.cfg)
	var ensured EnsureResult
	if t.cfg.ensure {
		err := retry(ctx, bo, ensureRetriable, func(ctx context.Context) (err error) {
			ensured, err = ensureTopic(ctx, t.tr, t.topic, &t.cfg)
			return err
		})
		if err != nil {
			return out, err
		}
	}
	if t.cfg.ttl > 0 {
		t.learnTimestampType(ctx, ensured) // timestamptype.go
	}
	// Right after creation a real cluster may not list the topic yet, so an
	// unknown topic is retried when we ensured it.
	retriable := func(err error) bool {
		if errors.Is(err, ErrNoPartitions) {
			return false
		}
		return transport.IsRetriable(err) || t.cfg.ensure && isUnknownTopic(err)
	}
	err := retry(ctx, bo, retriable, func(ctx context.Context) error {
		parts, err := t.tr.Partitions(ctx, t.topic)
		if err != nil {
			return err
		}
		if len(parts) == 0 {
			return ErrNoPartitions
		}
		if out.start, err = t.tr.StartOffsets(ctx, t.topic, parts); err != nil {
			return err
		}
		out.end, err = t.tr.EndOffsets(ctx, t.topic, parts)
		return err
	})
	return out, err
}

// newReader builds the reader of the table, starting from the fetch
// session f, with gate the end offsets catch-up must reach.
func (t *Table[V]) newReader(f transport.Fetcher, gate map[int32]int64) *reader[V] {
	return &reader[V]{
		tr:               t.tr,
		topic:            t.topic,
		opts:             t.fetchOptions(),
		codec:            t.codec,
		keys:             t.keys,
		cloneValues:      t.cloneValues,
		packed:           t.packed,
		stored:           t.store.get,
		concurrentDecode: decodesConcurrently(t.codec),
		watch:            t,
		sink:             t.store,
		log:              t.log,
		table:            t,
		started:          t.openedAt,
		onSet:            t.onSet,
		onDelete:         t.onDelete,
		onCaughtUp:       t.cfg.onCaughtUp,
		feed:             &t.feed,
		fetcher:          f,
		gate:             gate,
		newParts:         t.newParts,
		waker:            &t.waker,
		bo:               newBackoff(&t.cfg),
	}
}

func (t *Table[V]) fetchOptions() transport.FetchOptions {
	return transport.FetchOptions{MaxWait: t.cfg.fetchMaxWait}
}

// Topic returns the table's topic.
func (t *Table[V]) Topic() string { return t.topic }

// Get returns the value of key and whether it is present. The value is shared
// with the table and other readers: do not modify it (SPEC C2).
func (t *Table[V]) Get(key string) (V, bool) {
	if t.direct.packedShards != nil {
		return packedGet[V](t.direct, key)
	}
	return t.store.get(key)
}

// Has reports whether key is present.
func (t *Table[V]) Has(key string) bool {
	_, ok := t.Get(key)
	return ok
}

// Len returns the number of keys.
func (t *Table[V]) Len() int { return t.store.len() }

// All iterates over every entry, in no particular order. Each entry is one
// the table held during the iteration; the set as a whole is not a
// point-in-time copy (use Snapshot for that). No lock is held while the loop
// body runs, so it may call any method of the table.
func (t *Table[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		t.store.chunks(func(part []entry[V]) bool {
			for _, e := range part {
				if !yield(e.key, e.val) {
					return false
				}
			}
			return true
		})
	}
}

// Snapshot returns a point-in-time copy of the whole map.
func (t *Table[V]) Snapshot() map[string]V { return t.store.snapshot() }

// Status returns the table's lifecycle state.
func (t *Table[V]) Status() Status { return t.status.load() }

// Err returns the error that failed the table, or nil.
func (t *Table[V]) Err() error {
	t.errMu.Lock()
	defer t.errMu.Unlock()
	return t.err
}

// Stats returns a copy of the table's counters.
func (t *Table[V]) Stats() Stats { return t.stats.snapshot() }

// WaitCaughtUp blocks until the table has caught up with the end offsets seen
// at open (immediately if it has). A degraded table keeps catching up, so
// this is how to wait for it. It returns ctx's error, ErrClosed, or an error
// matching ErrTableFailed when the table failed, whether or not it had
// caught up before.
func (t *Table[V]) WaitCaughtUp(ctx context.Context) error {
	// A failure wins over catch-up, whenever it came (SPEC L2).
	select {
	case <-t.failed:
		return &failedError{cause: t.Err()}
	default:
	}
	select {
	case <-t.caughtUp:
		return nil
	default:
	}
	select {
	case <-t.failed:
		return &failedError{cause: t.Err()}
	case <-t.caughtUp:
		return nil
	case <-t.closed:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the reader and waits for it, wakes every waiter, and closes the
// transport if the table owns it (WithOwnedTransport). Reads keep serving the
// frozen contents. Close is idempotent.
//
// Called from a hook (OnSet, OnDelete, OnCaughtUp), Close runs on the
// reader goroutine, so it cannot wait for the reader: it stops the table
// and returns nil at once, and the reader finishes (closing an owned
// transport) when the hook returns. Any Close from another goroutine waits
// for that (SPEC H1).
func (t *Table[V]) Close() error {
	t.closeOnce.Do(func() {
		t.moveStatus(StatusClosed)
		close(t.closed)
		t.fresh.stop() // staleness.go
		if t.cancel != nil {
			t.cancel()
		}
		t.progress.broadcast()
	})
	if t.readerDone != nil && t.readerID.Load() == goroutineID() {
		return nil
	}
	if t.readerDone != nil {
		<-t.readerDone
	}
	t.finish()
	return t.closeErr
}

// finish is the end of Close once the reader has stopped: the watcher is
// waited for, waiters are woken, an owned transport is closed.
func (t *Table[V]) finish() {
	t.finishOnce.Do(func() {
		t.wg.Wait()
		t.progress.broadcast()
		if t.cfg.ownTransport {
			t.closeErr = t.tr.Close()
		}
	})
}

func (t *Table[V]) isClosed() bool {
	select {
	case <-t.closed:
		return true
	default:
		return false
	}
}

// caughtUpAfter completes catch-up: the status moves on and waiters of
// WaitCaughtUp wake. Only the reader calls it, once.
func (t *Table[V]) caughtUpAfter(d time.Duration, records int64) {
	if _, ok := t.moveStatus(StatusCaughtUp); ok {
		t.log.Info("ktables: caught up", slog.Duration("took", d), slog.Int64("records", records))
	}
	close(t.caughtUp)
}

// fail records a fatal error and freezes the table. Only the reader calls
// it, once.
func (t *Table[V]) fail(err error) {
	t.errMu.Lock()
	t.err = err
	t.errMu.Unlock()
	t.moveStatus(StatusFailed)
	t.log.Error("ktables: table failed; contents are frozen", slog.Any("error", err))
	close(t.failed)
	t.progress.broadcast()
}

func isUnknownTopic(err error) bool { return errors.Is(err, transport.ErrUnknownTopic) }
