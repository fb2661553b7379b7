package ktotel

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ktables/ktables"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope of the meter the instruments come
// from.
const ScopeName = "github.com/ktables/ktables/metrics/otel"

// DefaultBuckets are the latency histogram boundaries, in seconds: from half
// a millisecond (an idle Barrier on a local broker) to ten seconds (a write
// retried through a leader election).
var DefaultBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Metrics records tables and writers through OpenTelemetry instruments, and
// is the ktables.Observer that feeds its histograms. Give it to every table
// and writer with ktables.WithObserver and add each with AddTable or
// AddWriter. It is safe for concurrent use.
//
// Counters and gauges are observable instruments read from each table's
// Metrics when the SDK collects, so they cost nothing in between; only the
// barrier and write histograms are recorded as things happen.
type Metrics struct {
	ktables.NopObserver // Applied, StatusChanged, StaleChanged: read at collection instead

	applied, poison, expired, retries, barrierErrors, writeErrors metric.Int64ObservableCounter
	lag, status, stale, keys, partitions                          metric.Int64ObservableGauge
	catchUp, headConfirmed                                        metric.Float64ObservableGauge
	barrier, waitFor, write                                       metric.Float64Histogram
	reg                                                           metric.Registration

	mu      sync.RWMutex
	tables  map[ktables.Source]*tableEntry
	writers map[ktables.Source]*writerEntry
	taken   map[string]ktables.Source // kind, topic and attributes -> who has them
}

// sets are the attribute sets a source's data points use, built once.
type sets struct {
	base attribute.Set
	kv   []attribute.KeyValue // topic and the caller's attributes
}

func newSets(topic string, attrs []attribute.KeyValue) sets {
	kv := append([]attribute.KeyValue{attribute.String("topic", topic)}, attrs...)
	return sets{base: attribute.NewSet(kv...), kv: kv}
}

// with is the base set plus one attribute.
func (s sets) with(extra attribute.KeyValue) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(append(slices.Clip(s.kv), extra)...))
}

type tableEntry struct {
	t    ktables.MetricsSource
	sets sets
	base metric.MeasurementOption
	// precomputed: kind=set, delete; poison kinds; op=fetch; statuses
	set, del, valueDecode, keyDecode, keyless, foreign, fetch metric.MeasurementOption
	statuses                                                  [len(statusNames)]metric.MeasurementOption
	barrierErrors                                             atomic.Int64
}

type writerEntry struct {
	sets    sets
	produce metric.MeasurementOption
	ops     [2]metric.MeasurementOption // op=set, op=delete
	errs    [2]atomic.Int64
	retries atomic.Int64
}

var (
	_ ktables.Observer        = (*Metrics)(nil)
	_ ktables.WaitForObserver = (*Metrics)(nil)
)

// Option configures New.
type Option func(*options) error

type options struct{ buckets []float64 }

// WithBuckets sets the latency histogram boundaries, in seconds, strictly
// increasing (default DefaultBuckets).
func WithBuckets(buckets ...float64) Option {
	return func(o *options) error {
		if len(buckets) == 0 {
			return fmt.Errorf("%w: no buckets", ErrInvalid)
		}
		for i, b := range buckets {
			if math.IsNaN(b) || math.IsInf(b, 0) || i > 0 && b <= buckets[i-1] {
				return fmt.Errorf("%w: buckets %v are not finite and strictly increasing", ErrInvalid, buckets)
			}
		}
		o.buckets = slices.Clone(buckets)
		return nil
	}
}

// New creates the instruments on mp's meter for ScopeName. Close
// unregisters them.
func New(mp metric.MeterProvider, opts ...Option) (*Metrics, error) {
	if mp == nil {
		return nil, fmt.Errorf("%w: nil MeterProvider", ErrInvalid)
	}
	o := options{buckets: DefaultBuckets}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: nil Option", ErrInvalid)
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	meter := mp.Meter(ScopeName)
	m := &Metrics{
		tables:  map[ktables.Source]*tableEntry{},
		writers: map[ktables.Source]*writerEntry{},
		taken:   map[string]ktables.Source{},
	}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		c, err := meter.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	gauge := func(name, unit, desc string) metric.Int64ObservableGauge {
		g, err := meter.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return g
	}
	fgauge := func(name, unit, desc string) metric.Float64ObservableGauge {
		g, err := meter.Float64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return g
	}
	hist := func(name, desc string) metric.Float64Histogram {
		h, err := meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(o.buckets...))
		errs = append(errs, err)
		return h
	}
	m.applied = counter("ktables.records.applied", "{record}", "Records a table applied, by kind: set (a key set) or delete (a tombstone).")
	m.poison = counter("ktables.poison.records", "{record}", "Records a table skipped, by kind: value_decode, key_decode, keyless or foreign.")
	m.expired = counter("ktables.expired", "{key}", "Keys (members, for a grouped table) a table opened with a TTL hid because their last record got older than it.")
	m.retries = counter("ktables.retries", "{retry}", "Transient errors retried, by op: fetch (tables) or produce (writers).")
	m.barrierErrors = counter("ktables.barrier.errors", "{barrier}", "Barriers that returned an error.")
	m.writeErrors = counter("ktables.write.errors", "{write}", "Writes that returned an error, by op: set or delete.")
	m.lag = gauge("ktables.lag", "{record}", "Records a table is behind the high watermark its fetches last reported, per partition.")
	m.status = gauge("ktables.status", "1", "A table's lifecycle state: 1 for the current status, 0 for the others.")
	m.stale = gauge("ktables.stale", "1", "1 when a table went longer than its maximum staleness without confirming it is at the head.")
	m.keys = gauge("ktables.keys", "{key}", "Keys a table holds (members, for a grouped table).")
	m.partitions = gauge("ktables.partitions", "{partition}", "Partitions a table reads.")
	m.catchUp = fgauge("ktables.catchup.duration", "s", "How long a table took to catch up after Open; absent until it did.")
	m.headConfirmed = fgauge("ktables.head_confirmed.time", "s", "When a table last confirmed it was at the head of every partition, as a Unix time; absent until it did.")
	m.barrier = hist("ktables.barrier.duration", "How long Barrier calls took, successful or not.")
	m.waitFor = hist("ktables.waitfor.duration", "How long WaitFor and WaitForChecked calls took, successful or not; near zero for a token already applied.")
	m.write = hist("ktables.write.duration", "How long writes took until acknowledged or failed, retries included, by op: set or delete.")
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("ktotel: create instruments: %w", err)
	}
	reg, err := meter.RegisterCallback(m.observe, m.applied, m.poison, m.expired, m.retries, m.barrierErrors, m.writeErrors,
		m.lag, m.status, m.stale, m.keys, m.partitions, m.catchUp, m.headConfirmed)
	if err != nil {
		return nil, fmt.Errorf("ktotel: register callback: %w", err)
	}
	m.reg = reg
	return m, nil
}

// Close unregisters the observable instruments' callback: nothing is read
// from the tables any more.
func (m *Metrics) Close() error { return m.reg.Unregister() }

// reserved are the attributes the instruments set themselves.
var reserved = []attribute.Key{"topic", "kind", "partition", "status", "op"}

// claim checks that src and its data points are new, and takes them.
func (m *Metrics) claim(src ktables.Source, attrs []attribute.KeyValue) (sets, error) {
	for _, kv := range attrs {
		if !kv.Valid() {
			return sets{}, fmt.Errorf("%w: attribute %q is not valid", ErrInvalid, kv.Key)
		}
		if slices.Contains(reserved, kv.Key) {
			return sets{}, fmt.Errorf("%w: attribute %q is set by the instruments", ErrInvalid, kv.Key)
		}
	}
	_, isTable := m.tables[src]
	_, isWriter := m.writers[src]
	if isTable || isWriter {
		return sets{}, fmt.Errorf("%w: %v was added already", ErrDuplicate, src)
	}
	s := newSets(src.Topic, attrs)
	if s.base.Len() != len(attrs)+1 {
		return sets{}, fmt.Errorf("%w: attributes %v repeat a key", ErrInvalid, attrs)
	}
	id := src.Kind.String() + "\x00" + s.base.Encoded(attribute.DefaultEncoder())
	if other, ok := m.taken[id]; ok {
		return sets{}, fmt.Errorf("%w: %v and %v would record the same data points (topic %q, attributes %v): give each a distinguishing attribute, such as attribute.String(\"table\", name)",
			ErrDuplicate, src, other, src.Topic, attrs)
	}
	m.taken[id] = src
	return s, nil
}

// AddTable adds a table (a *ktables.Table or *ktables.GroupedTable) with
// attributes for all its data points. Adding it twice, or a second table of
// the same topic with equal attributes, is an error matching ErrDuplicate.
// Open the table with ktables.WithObserver(m) for its barrier histogram.
func (m *Metrics) AddTable(t ktables.MetricsSource, attrs ...attribute.KeyValue) error {
	if t == nil {
		return fmt.Errorf("%w: nil table", ErrInvalid)
	}
	src := t.Source()
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.claim(src, attrs)
	if err != nil {
		return err
	}
	e := &tableEntry{t: t, sets: s, base: metric.WithAttributeSet(s.base),
		set: s.with(attribute.String("kind", "set")), del: s.with(attribute.String("kind", "delete")),
		valueDecode: s.with(attribute.String("kind", "value_decode")), keyDecode: s.with(attribute.String("kind", "key_decode")),
		keyless: s.with(attribute.String("kind", "keyless")), foreign: s.with(attribute.String("kind", "foreign")),
		fetch: s.with(attribute.String("op", "fetch")),
	}
	for i, sn := range statusNames {
		e.statuses[i] = s.with(attribute.String("status", sn.name))
	}
	m.tables[src] = e
	return nil
}

// AddWriter adds a writer (a *ktables.Writer or *ktables.GroupedWriter)
// with attributes for all its data points; duplicates are refused like
// AddTable's. Open the writer with ktables.WithObserver(m): everything a
// writer records comes from its events.
func (m *Metrics) AddWriter(w ktables.WriterSource, attrs ...attribute.KeyValue) error {
	if w == nil {
		return fmt.Errorf("%w: nil writer", ErrInvalid)
	}
	src := w.Source()
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.claim(src, attrs)
	if err != nil {
		return err
	}
	m.writers[src] = &writerEntry{sets: s, produce: s.with(attribute.String("op", "produce")),
		ops: [2]metric.MeasurementOption{s.with(attribute.String("op", "set")), s.with(attribute.String("op", "delete"))}}
	return nil
}

// Remove drops a table or writer added before; it reports whether it was
// there. Remove what you close for good, or its last values stay reported.
func (m *Metrics) Remove(s ktables.WriterSource) bool {
	if s == nil {
		return false
	}
	src := s.Source()
	m.mu.Lock()
	defer m.mu.Unlock()
	var base attribute.Set
	if e, ok := m.tables[src]; ok {
		base = e.sets.base
		delete(m.tables, src)
	} else if e, ok := m.writers[src]; ok {
		base = e.sets.base
		delete(m.writers, src)
	} else {
		return false
	}
	delete(m.taken, src.Kind.String()+"\x00"+base.Encoded(attribute.DefaultEncoder()))
	return true
}

// Barrier records a Barrier's duration (ktables.Observer).
func (m *Metrics) Barrier(ev ktables.BarrierEvent) {
	m.mu.RLock()
	e := m.tables[ev.Source]
	m.mu.RUnlock()
	if e == nil {
		return // not added (yet, or any more)
	}
	m.barrier.Record(context.Background(), ev.Duration.Seconds(), e.base)
	if ev.Err != nil {
		e.barrierErrors.Add(1)
	}
}

// WaitedFor records a WaitFor's or WaitForChecked's duration
// (ktables.WaitForObserver).
func (m *Metrics) WaitedFor(ev ktables.WaitForEvent) {
	m.mu.RLock()
	e := m.tables[ev.Source]
	m.mu.RUnlock()
	if e != nil {
		m.waitFor.Record(context.Background(), ev.Duration.Seconds(), e.base)
	}
}

// Wrote records a write's duration (ktables.Observer).
func (m *Metrics) Wrote(ev ktables.WriteEvent) {
	m.mu.RLock()
	e := m.writers[ev.Source]
	m.mu.RUnlock()
	if e == nil {
		return
	}
	i := 0
	if ev.Op == ktables.OpDelete {
		i = 1
	}
	m.write.Record(context.Background(), ev.Duration.Seconds(), e.ops[i])
	if ev.Err != nil {
		e.errs[i].Add(1)
	}
}

// Retried counts a writer's retries (ktables.Observer); a table's come
// from its Stats at collection.
func (m *Metrics) Retried(ev ktables.RetryEvent) {
	if ev.Source.Kind != ktables.SourceWriter {
		return
	}
	m.mu.RLock()
	e := m.writers[ev.Source]
	m.mu.RUnlock()
	if e != nil {
		e.retries.Add(1)
	}
}

var statusNames = [...]struct {
	s    ktables.Status
	name string
}{
	{ktables.StatusLoading, "loading"},
	{ktables.StatusCaughtUp, "caught_up"},
	{ktables.StatusDegraded, "degraded"},
	{ktables.StatusFailed, "failed"},
	{ktables.StatusClosed, "closed"},
}

// observe is the callback of every observable instrument. It holds no lock
// while reading tables.
func (m *Metrics) observe(_ context.Context, o metric.Observer) error {
	m.mu.RLock()
	tables := make([]*tableEntry, 0, len(m.tables))
	for _, e := range m.tables {
		tables = append(tables, e)
	}
	writers := make([]*writerEntry, 0, len(m.writers))
	for _, e := range m.writers {
		writers = append(writers, e)
	}
	m.mu.RUnlock()

	for _, e := range tables {
		tm := e.t.Metrics()
		s := tm.Stats
		o.ObserveInt64(m.applied, s.RecordsApplied, e.set)
		o.ObserveInt64(m.applied, s.TombstonesApplied, e.del)
		o.ObserveInt64(m.poison, s.ValueDecodeErrors, e.valueDecode)
		o.ObserveInt64(m.poison, s.KeyDecodeErrors, e.keyDecode)
		o.ObserveInt64(m.poison, s.KeylessRecords, e.keyless)
		o.ObserveInt64(m.poison, s.ForeignKeys, e.foreign)
		o.ObserveInt64(m.expired, s.Expired, e.base)
		o.ObserveInt64(m.retries, s.Retries, e.fetch)
		o.ObserveInt64(m.barrierErrors, e.barrierErrors.Load(), e.base)
		for _, pl := range tm.Lag {
			if pl.HighWatermark >= 0 { // unknown is not zero
				o.ObserveInt64(m.lag, pl.Lag, e.sets.with(attribute.Int("partition", int(pl.Partition))))
			}
		}
		for i, sn := range statusNames {
			o.ObserveInt64(m.status, b2i(tm.Status == sn.s), e.statuses[i])
		}
		o.ObserveInt64(m.stale, b2i(tm.Stale), e.base)
		o.ObserveInt64(m.keys, int64(tm.Keys), e.base)
		o.ObserveInt64(m.partitions, int64(s.Partitions), e.base)
		if s.CatchUpDuration > 0 {
			o.ObserveFloat64(m.catchUp, s.CatchUpDuration.Seconds(), e.base)
		}
		if !s.HeadConfirmed.IsZero() {
			o.ObserveFloat64(m.headConfirmed, float64(s.HeadConfirmed.UnixNano())/1e9, e.base)
		}
	}
	for _, e := range writers {
		o.ObserveInt64(m.retries, e.retries.Load(), e.produce)
		for i := range e.ops {
			o.ObserveInt64(m.writeErrors, e.errs[i].Load(), e.ops[i])
		}
	}
	return nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
