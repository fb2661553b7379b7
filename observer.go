package ktables

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Observer is told what tables and writers do, for metrics and tracing
// (SPEC D4). The metrics/prometheus and metrics/otel modules implement it;
// so can anything else. Give it with WithObserver.
//
// Counters a table keeps anyway (records applied, poison records, retries,
// lag, status, staleness) are cheapest read at scrape time with
// Table.Metrics; the observer carries what those snapshots cannot: latency
// samples, writer retries, and the moment of each transition.
//
// Methods run on the goroutine that did the work — Applied on the reader,
// Barrier on the caller of Barrier, Wrote on the caller of Set — so they
// must be quick and must not block; they may be called concurrently. A
// method that panics is logged and recovered. Embed NopObserver to implement
// only some methods and stay compatible when methods are added.
//
// Without an observer, a table or writer measures nothing: no clock is read
// and nothing is allocated for it.
type Observer interface {
	// Applied follows each fetch that returned records, after they were
	// applied: how many of each kind, and the lag afterwards.
	Applied(AppliedEvent)
	// StatusChanged follows every Status transition. The first change to
	// StatusCaughtUp ends catch-up: SinceOpen is the catch-up duration.
	StatusChanged(StatusEvent)
	// StaleChanged follows a table becoming stale or fresh again
	// (WithMaxStaleness), like the OnStale hook.
	StaleChanged(StaleEvent)
	// Retried follows a transient error a table's reader or a writer is
	// about to retry.
	Retried(RetryEvent)
	// Barrier follows every Table.Barrier, successful or not.
	Barrier(BarrierEvent)
	// Wrote follows every writer Set and Delete that reached the transport
	// (an encode error sends nothing and is not reported).
	Wrote(WriteEvent)
}

// WaitForObserver is an optional extension of Observer: an observer that
// also implements it is told how long every WaitFor and WaitForChecked
// took. It is found by type assertion when the table opens, so Observers
// written before it existed keep compiling. NopObserver does not implement
// it, so embedding NopObserver does not hide the method of an observer
// that has one.
//
// WaitedFor runs on the caller of WaitFor, like Barrier.
type WaitForObserver interface {
	WaitedFor(WaitForEvent)
}

// WaitForEvent describes a finished WaitFor or WaitForChecked.
type WaitForEvent struct {
	Source   Source
	Duration time.Duration
	// Checked: the call was WaitForChecked.
	Checked bool
	// Applied: the table already covered the token; the call returned at
	// once, without waiting or a round trip.
	Applied bool
	Err     error // nil when the token was applied
}

// NopObserver does nothing. Embed it in an Observer that needs only some
// of the methods.
type NopObserver struct{}

func (NopObserver) Applied(AppliedEvent)      {}
func (NopObserver) StatusChanged(StatusEvent) {}
func (NopObserver) StaleChanged(StaleEvent)   {}
func (NopObserver) Retried(RetryEvent)        {}
func (NopObserver) Barrier(BarrierEvent)      {}
func (NopObserver) Wrote(WriteEvent)          {}

var _ Observer = NopObserver{}

// WithObserver sends a table's or writer's events to o. Given more than once,
// every observer gets every event, in the order given.
func WithObserver(o Observer) Option {
	return newOption("WithObserver", scopeClient, func(c *config) error {
		if o == nil {
			return fmt.Errorf("nil observer")
		}
		c.observers = append(c.observers, o)
		return nil
	})
}

// Source names the table or writer an event comes from. Every Table,
// GroupedTable, Writer and GroupedWriter has its own, returned by its Source
// method; two of them never share one, even on the same topic. Sources are
// comparable, so collectors key maps with them.
type Source struct {
	Topic string
	Kind  SourceKind
	id    uint64
}

// SourceKind tells tables from writers.
type SourceKind uint8

const (
	SourceTable SourceKind = iota + 1
	SourceWriter
)

func (k SourceKind) String() string {
	switch k {
	case SourceTable:
		return "table"
	case SourceWriter:
		return "writer"
	}
	return fmt.Sprintf("SourceKind(%d)", uint8(k))
}

// String is "table flags#3": the kind, the topic and a number unique in the
// process.
func (s Source) String() string { return fmt.Sprintf("%s %s#%d", s.Kind, s.Topic, s.id) }

var sourceSeq atomic.Uint64

// Op is the operation an event is about.
type Op uint8

const (
	OpFetch  Op = iota + 1 // a table's fetch
	OpReopen               // a table opening a new fetch session after an error
	OpSet                  // a writer's Set
	OpDelete               // a writer's Delete
)

func (o Op) String() string {
	switch o {
	case OpFetch:
		return "fetch"
	case OpReopen:
		return "reopen"
	case OpSet:
		return "set"
	case OpDelete:
		return "delete"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// AppliedEvent describes one applied fetch. The counts are those Stats adds
// up: Set for RecordsApplied, Deleted for TombstonesApplied, and the four
// kinds of skipped (poison) records.
type AppliedEvent struct {
	Source  Source
	Records int // records in the fetch, of every kind
	Set, Deleted,
	Keyless, KeyDecodeErrors, ForeignKeys, ValueDecodeErrors int64
	// Lag is the table's total lag after the fetch (Stats.Lag).
	Lag int64
}

// StatusEvent describes a Status transition.
type StatusEvent struct {
	Source   Source
	From, To Status
	// SinceOpen is the time since Open began.
	SinceOpen time.Duration
	// Err is what failed the table, for To == StatusFailed.
	Err error
}

// StaleEvent describes a change of Table.Stale.
type StaleEvent struct {
	Source Source
	Stale  bool
	// Confirmed is when the head was last confirmed (becoming stale) or
	// now (becoming fresh); see OnStale.
	Confirmed time.Time
}

// RetryEvent describes a transient error about to be retried.
type RetryEvent struct {
	Source Source
	Op     Op // OpFetch or OpReopen for tables, OpSet or OpDelete for writers
	Err    error
}

// BarrierEvent describes a finished Barrier.
type BarrierEvent struct {
	Source   Source
	Duration time.Duration
	Err      error // nil when the barrier was reached
}

// WriteEvent describes a finished Set or Delete.
type WriteEvent struct {
	Source   Source
	Op       Op // OpSet or OpDelete
	Duration time.Duration
	// Position is where the record landed; zero on error.
	Position Position
	Err      error
}

// Metrics is everything a metrics collector reads from a table at scrape
// time, taken from memory without a request. Table.Metrics returns it.
type Metrics struct {
	Source Source
	Status Status
	Stale  bool
	// Keys is the number of keys (for a grouped table, of members).
	Keys  int
	Stats Stats
	// Lag is per partition, as Table.Lag returns it.
	Lag []PartitionLag
}

// MetricsSource is a table a collector can scrape: *Table and
// *GroupedTable of any value type.
type MetricsSource interface {
	Source() Source
	Metrics() Metrics
}

// WriterSource is a writer a collector can follow: *Writer and
// *GroupedWriter of any value type.
type WriterSource interface {
	Source() Source
}

var (
	_ MetricsSource = (*Table[any])(nil)
	_ MetricsSource = (*GroupedTable[any])(nil)
	_ WriterSource  = (*Writer[any])(nil)
	_ WriterSource  = (*GroupedWriter[any])(nil)
)

// Source returns the table's identity in observer events.
func (t *Table[V]) Source() Source { return t.ob.src }

// Metrics returns the table's state for a metrics scrape.
func (t *Table[V]) Metrics() Metrics {
	return Metrics{
		Source: t.ob.src,
		Status: t.Status(),
		Stale:  t.Stale(),
		Keys:   t.store.len(),
		Stats:  t.Stats(),
		Lag:    t.Lag(),
	}
}

// Source returns the table's identity in observer events.
func (g *GroupedTable[V]) Source() Source { return g.t.Source() }

// Metrics returns the table's state for a metrics scrape; Keys counts
// members.
func (g *GroupedTable[V]) Metrics() Metrics { return g.t.Metrics() }

// Source returns the writer's identity in observer events.
func (w *Writer[V]) Source() Source { return w.ob.src }

// Source returns the writer's identity in observer events.
func (g *GroupedWriter[V]) Source() Source { return g.w.Source() }

// observing is a table's or writer's link to its observers. With none, every
// method returns after one length check.
type observing struct {
	src     Source
	list    []Observer
	waiters []WaitForObserver // those of list that implement it
	log     *slog.Logger
	// last holds the counters at the previous Applied event; only the
	// reader goroutine touches it.
	last [6]int64
}

func (o *observing) init(cfg *config, kind SourceKind, topic string, log *slog.Logger) {
	o.src = Source{Topic: topic, Kind: kind, id: sourceSeq.Add(1)}
	o.list = cfg.observers
	o.log = log
	for _, x := range o.list {
		if w, ok := x.(WaitForObserver); ok {
			o.waiters = append(o.waiters, w)
		}
	}
}

func (o *observing) on() bool { return len(o.list) > 0 }

// emit calls call on every observer; method expressions such as
// Observer.Applied keep it free of closures and allocations.
func emit[E any](o *observing, method string, call func(Observer, E), ev E) {
	for _, x := range o.list {
		emitOne(o, method, x, call, ev)
	}
}

func emitOne[X, E any](o *observing, method string, x X, call func(X, E), ev E) {
	defer o.recovered(method)
	call(x, ev)
}

func (o *observing) recovered(method string) {
	if v := recover(); v != nil {
		o.log.Error("ktables: observer panicked", slog.String("method", method), slog.Any("panic", v))
	}
}

// observeBatch reports the batch the reader just applied, from the
// counters apply added to, so apply itself stays as it is.
func (t *Table[V]) observeBatch(records int) {
	o := &t.ob
	if !o.on() {
		return
	}
	s := &t.stats
	now := [6]int64{s.applied.Load(), s.tombstones.Load(), s.keyless.Load(), s.keyErrors.Load(), s.foreign.Load(), s.valueErrors.Load()}
	if records == 0 && now == o.last {
		return
	}
	var d [6]int64
	for i := range now {
		d[i] = now[i] - o.last[i]
	}
	o.last = now
	emit(o, "Applied", Observer.Applied, AppliedEvent{
		Source: o.src, Records: records,
		Set: d[0], Deleted: d[1], Keyless: d[2], KeyDecodeErrors: d[3], ForeignKeys: d[4], ValueDecodeErrors: d[5],
		Lag: s.lag.Load(),
	})
}

// moveStatus is the one way a table changes status: status.go names the
// legal transitions, and observers hear of every change made.
func (t *Table[V]) moveStatus(to Status) (from Status, ok bool) {
	from, ok = t.status.move(to)
	if ok {
		t.observeStatus(from, to)
	}
	return from, ok
}

func (t *Table[V]) observeStatus(from, to Status) {
	o := &t.ob
	if !o.on() || from == to {
		return
	}
	ev := StatusEvent{Source: o.src, From: from, To: to, SinceOpen: time.Since(t.openedAt)}
	if to == StatusFailed {
		ev.Err = t.Err()
	}
	emit(o, "StatusChanged", Observer.StatusChanged, ev)
}

func (t *Table[V]) observeStale(stale bool, confirmed time.Time) {
	if o := &t.ob; o.on() {
		emit(o, "StaleChanged", Observer.StaleChanged, StaleEvent{Source: o.src, Stale: stale, Confirmed: confirmed})
	}
}

func (t *Table[V]) observeRetry(op Op, err error) {
	if o := &t.ob; o.on() {
		emit(o, "Retried", Observer.Retried, RetryEvent{Source: o.src, Op: op, Err: err})
	}
}

// observeBarrier is deferred by Barrier, only when there are observers.
func (t *Table[V]) observeBarrier(start time.Time, err *error) {
	o := &t.ob
	emit(o, "Barrier", Observer.Barrier, BarrierEvent{Source: o.src, Duration: time.Since(start), Err: *err})
}

// observeWaitFor is called by WaitFor and WaitForChecked, only when an
// observer implements WaitForObserver.
func (t *Table[V]) observeWaitFor(ctx context.Context, tok Token, check bool) error {
	start := time.Now()
	applied := false
	err := t.waitFor(ctx, tok, check, &applied)
	ev := WaitForEvent{Source: t.ob.src, Duration: time.Since(start), Checked: check, Applied: applied, Err: err}
	for _, w := range t.ob.waiters {
		emitOne(&t.ob, "WaitedFor", w, WaitForObserver.WaitedFor, ev)
	}
	return err
}

func writeOp(tombstone bool) Op {
	if tombstone {
		return OpDelete
	}
	return OpSet
}

// observeWrite is deferred by write, only when there are observers.
func (w *Writer[V]) observeWrite(start time.Time, tombstone bool, pos *Position, err *error) {
	o := &w.ob
	emit(o, "Wrote", Observer.Wrote, WriteEvent{Source: o.src, Op: writeOp(tombstone), Duration: time.Since(start), Position: *pos, Err: *err})
}

func (w *Writer[V]) observeRetry(tombstone bool, err error) {
	if o := &w.ob; o.on() {
		emit(o, "Retried", Observer.Retried, RetryEvent{Source: o.src, Op: writeOp(tombstone), Err: err})
	}
}
