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
	// cloneValues: the codec's values alias the bytes they decode and the
	// store does not copy them, so the reader copies first (ADR 7).
	cloneValues bool
	// packed: the store keeps its own copy of each value, which hooks get.
	packed bool

	onSet    func(string, V)
	onDelete func(string, V)

	pos      atomic.Pointer[positions]
	progress notifier
	stats    counters
	status   atomic.Int32
	openedAt time.Time

	errMu sync.Mutex
	err   error

	caughtUp chan struct{} // closed when catch-up completes
	failed   chan struct{} // closed when the reader fails
	closed   chan struct{} // closed by Close

	newParts  chan discovered // partitions found after open, to the reader
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
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
func (p *positions) reached(targets map[int32]int64) bool {
	for id, end := range targets {
		a, ok := p.at[id]
		if !ok || a.Load() < end {
			return false
		}
	}
	return true
}

func (p *positions) current() map[int32]int64 {
	out := make(map[int32]int64, len(p.at))
	for id, a := range p.at {
		out[id] = a.Load()
	}
	return out
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
	cfg, err := buildConfig(scopeTable, opts)
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
		caughtUp: make(chan struct{}),
		failed:   make(chan struct{}),
		closed:   make(chan struct{}),
		newParts: make(chan discovered),
	}
	_, t.packed = st.(interface{ copiesValues() })
	t.cloneValues = !t.packed && keepsBytes(codec)
	if cfg.onSet != nil {
		fn, ok := cfg.onSet.(func(string, V))
		if !ok {
			return nil, optionErr("OnSet", "hook type %T does not match the table's value type %T", cfg.onSet, *new(V))
		}
		t.onSet = fn
	}
	if cfg.onDelete != nil {
		fn, ok := cfg.onDelete.(func(string, V))
		if !ok {
			return nil, optionErr("OnDelete", "hook type %T does not match the table's value type %T", cfg.onDelete, *new(V))
		}
		t.onDelete = fn
	}
	t.pos.Store(&positions{at: map[int32]*atomic.Int64{}})
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
	err = retry(octx, newBackoff(&t.cfg), transport.IsRetriable, func(ctx context.Context) (err error) {
		f, err = t.tr.NewFetcher(ctx, t.topic, init.start, t.fetchOptions())
		return err
	})
	if err != nil {
		return t.openError(ctx, octx, fmt.Errorf("start fetching: %w", err))
	}

	rctx, rcancel := context.WithCancel(context.Background())
	t.cancel = rcancel
	r := &reader[V]{t: t, fetcher: f, gate: init.end, bo: newBackoff(&t.cfg)}
	r.checkGate() // empty topics are caught up before the first fetch
	t.wg.Add(2)
	go r.run(rctx)
	go t.watchPartitions(rctx)

	select {
	case <-t.caughtUp:
		return nil
	case <-t.failed:
		cause := t.Err()
		t.Close()
		return fmt.Errorf("ktables: open %q: catch-up failed: %w", t.topic, cause)
	case <-octx.Done():
		if ctx.Err() != nil {
			t.Close()
			return fmt.Errorf("ktables: open %q: %w", t.topic, ctx.Err())
		}
		if t.status.CompareAndSwap(int32(StatusLoading), int32(StatusDegraded)) {
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
	if t.cfg.ensure {
		err := retry(ctx, bo, transport.IsRetriable, func(ctx context.Context) error {
			_, err := ensureTopic(ctx, t.tr, t.topic, &t.cfg)
			return err
		})
		if err != nil {
			return out, err
		}
	}
	// Right after creation a real cluster may not list the topic yet, so an
	// unknown topic is retried when we ensured it.
	retriable := func(err error) bool {
		return transport.IsRetriable(err) || t.cfg.ensure && isUnknownTopic(err)
	}
	err := retry(ctx, bo, retriable, func(ctx context.Context) error {
		parts, err := t.tr.Partitions(ctx, t.topic)
		if err != nil {
			return err
		}
		if out.start, err = t.tr.StartOffsets(ctx, t.topic, parts); err != nil {
			return err
		}
		out.end, err = t.tr.EndOffsets(ctx, t.topic, parts)
		return err
	})
	return out, err
}

func (t *Table[V]) fetchOptions() transport.FetchOptions {
	return transport.FetchOptions{MaxWait: t.cfg.fetchMaxWait}
}

// Topic returns the table's topic.
func (t *Table[V]) Topic() string { return t.topic }

// Get returns the value of key and whether it is present. The value is shared
// with the table and other readers: do not modify it (SPEC C2).
func (t *Table[V]) Get(key string) (V, bool) { return t.store.get(key) }

// Has reports whether key is present.
func (t *Table[V]) Has(key string) bool {
	_, ok := t.store.get(key)
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
func (t *Table[V]) Status() Status { return Status(t.status.Load()) }

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
// matching ErrTableFailed.
func (t *Table[V]) WaitCaughtUp(ctx context.Context) error {
	select {
	case <-t.caughtUp:
		return nil
	default:
	}
	select {
	case <-t.caughtUp:
		return nil
	case <-t.failed:
		return &failedError{cause: t.Err()}
	case <-t.closed:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the reader and waits for it, wakes every waiter, and closes the
// transport if the table owns it (WithOwnedTransport). Reads keep serving the
// frozen contents. Close is idempotent.
func (t *Table[V]) Close() error {
	t.closeOnce.Do(func() {
		t.status.Store(int32(StatusClosed))
		close(t.closed)
		if t.cancel != nil {
			t.cancel()
		}
		t.wg.Wait()
		t.progress.broadcast()
		if t.cfg.ownTransport {
			t.closeErr = t.tr.Close()
		}
	})
	return t.closeErr
}

func (t *Table[V]) isClosed() bool {
	select {
	case <-t.closed:
		return true
	default:
		return false
	}
}

// fail records a fatal error and freezes the table. Only the reader calls it.
func (t *Table[V]) fail(err error) {
	t.errMu.Lock()
	t.err = err
	t.errMu.Unlock()
	if !t.status.CompareAndSwap(int32(StatusLoading), int32(StatusFailed)) &&
		!t.status.CompareAndSwap(int32(StatusDegraded), int32(StatusFailed)) {
		t.status.CompareAndSwap(int32(StatusCaughtUp), int32(StatusFailed))
	}
	t.log.Error("ktables: table failed; contents are frozen", slog.Any("error", err))
	close(t.failed)
	t.progress.broadcast()
}
