package ktotel

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/internal/metricsreg"
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

	sources *metricsreg.Registry[tableData, writerData]
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

// tableData is what Metrics keeps per table beside the registry's.
type tableData struct {
	sets sets
	base metric.MeasurementOption
	// precomputed: kind=set, delete; poison kinds; op=fetch; statuses
	set, del, valueDecode, keyDecode, keyless, foreign, fetch metric.MeasurementOption
	statuses                                                  [len(metricsreg.Statuses)]metric.MeasurementOption
}

// writerData is what Metrics keeps per writer beside the registry's.
type writerData struct {
	produce metric.MeasurementOption
	ops     [len(metricsreg.WriteOps)]metric.MeasurementOption // by metricsreg.OpIndex
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
		b, err := metricsreg.Buckets(buckets, ErrInvalid)
		o.buckets = b
		return err
	}
}

// New creates the instruments on mp's meter for ScopeName. Close
// unregisters them.
func New(mp metric.MeterProvider, opts ...Option) (*Metrics, error) {
	if mp == nil {
		return nil, fmt.Errorf("%w: nil MeterProvider", ErrInvalid)
	}
	o := options{buckets: DefaultBuckets}
	if err := metricsreg.Apply(&o, opts, ErrInvalid); err != nil {
		return nil, err
	}
	meter := mp.Meter(ScopeName)
	m := &Metrics{sources: metricsreg.New[tableData, writerData](ErrDuplicate)}
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

// check checks the caller's attributes and builds the sets of a source's
// data points, and the key that makes them distinct.
func check(topic string, attrs []attribute.KeyValue) (sets, string, error) {
	for _, kv := range attrs {
		if !kv.Valid() {
			return sets{}, "", fmt.Errorf("%w: attribute %q is not valid", ErrInvalid, kv.Key)
		}
		if metricsreg.Reserved(string(kv.Key)) {
			return sets{}, "", fmt.Errorf("%w: attribute %q is set by the instruments", ErrInvalid, kv.Key)
		}
	}
	s := newSets(topic, attrs)
	if s.base.Len() != len(attrs)+1 {
		return sets{}, "", fmt.Errorf("%w: attributes %v repeat a key", ErrInvalid, attrs)
	}
	return s, s.base.Encoded(attribute.DefaultEncoder()), nil
}

// collision words the refusal of a source whose data points another has.
func collision(attrs []attribute.KeyValue) metricsreg.Collision {
	return func(src, other ktables.Source) error {
		return fmt.Errorf("%w: %v and %v would record the same data points (topic %q, attributes %v): give each a distinguishing attribute, such as attribute.String(\"table\", name)",
			ErrDuplicate, src, other, src.Topic, attrs)
	}
}

// AddTable adds a table (a *ktables.Table or *ktables.GroupedTable) with
// attributes for all its data points. Adding it twice, or a second table of
// the same topic with equal attributes, is an error matching ErrDuplicate.
// Open the table with ktables.WithObserver(m) for its barrier histogram.
func (m *Metrics) AddTable(t ktables.MetricsSource, attrs ...attribute.KeyValue) error {
	if t == nil {
		return fmt.Errorf("%w: nil table", ErrInvalid)
	}
	s, key, err := check(t.Source().Topic, attrs)
	if err != nil {
		return err
	}
	return m.sources.AddTable(t, key, collision(attrs), func() tableData {
		d := tableData{sets: s, base: metric.WithAttributeSet(s.base),
			set: s.with(attribute.String("kind", "set")), del: s.with(attribute.String("kind", "delete")),
			valueDecode: s.with(attribute.String("kind", "value_decode")), keyDecode: s.with(attribute.String("kind", "key_decode")),
			keyless: s.with(attribute.String("kind", "keyless")), foreign: s.with(attribute.String("kind", "foreign")),
			fetch: s.with(attribute.String("op", "fetch")),
		}
		for i, sn := range metricsreg.Statuses {
			d.statuses[i] = s.with(attribute.String("status", sn.Name))
		}
		return d
	})
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
	s, key, err := check(src.Topic, attrs)
	if err != nil {
		return err
	}
	return m.sources.AddWriter(src, key, collision(attrs), func() writerData {
		d := writerData{produce: s.with(attribute.String("op", "produce"))}
		for i, op := range metricsreg.WriteOps {
			d.ops[i] = s.with(attribute.String("op", op))
		}
		return d
	})
}

// Remove drops a table or writer added before; it reports whether it was
// there. Remove what you close for good, or its last values stay reported.
func (m *Metrics) Remove(s ktables.WriterSource) bool {
	if s == nil {
		return false
	}
	return m.sources.Remove(s.Source(), nil)
}

// Barrier records a Barrier's duration (ktables.Observer).
func (m *Metrics) Barrier(ev ktables.BarrierEvent) {
	if e := m.sources.Barrier(ev); e != nil {
		m.barrier.Record(context.Background(), ev.Duration.Seconds(), e.Data.base)
	}
}

// WaitedFor records a WaitFor's or WaitForChecked's duration
// (ktables.WaitForObserver).
func (m *Metrics) WaitedFor(ev ktables.WaitForEvent) {
	if e := m.sources.WaitedFor(ev); e != nil {
		m.waitFor.Record(context.Background(), ev.Duration.Seconds(), e.Data.base)
	}
}

// Wrote records a write's duration (ktables.Observer).
func (m *Metrics) Wrote(ev ktables.WriteEvent) {
	if e, op := m.sources.Wrote(ev); e != nil {
		m.write.Record(context.Background(), ev.Duration.Seconds(), e.Data.ops[op])
	}
}

// Retried counts a writer's retries (ktables.Observer); a table's come
// from its Stats at collection.
func (m *Metrics) Retried(ev ktables.RetryEvent) { m.sources.Retried(ev) }

// observe is the callback of every observable instrument. It holds no lock
// while reading tables.
func (m *Metrics) observe(_ context.Context, o metric.Observer) error {
	tables, writers := m.sources.Snapshot()
	for _, t := range tables {
		tm, e := t.Source.Metrics(), &t.Data
		s := tm.Stats
		o.ObserveInt64(m.applied, s.RecordsApplied, e.set)
		o.ObserveInt64(m.applied, s.TombstonesApplied, e.del)
		o.ObserveInt64(m.poison, s.ValueDecodeErrors, e.valueDecode)
		o.ObserveInt64(m.poison, s.KeyDecodeErrors, e.keyDecode)
		o.ObserveInt64(m.poison, s.KeylessRecords, e.keyless)
		o.ObserveInt64(m.poison, s.ForeignKeys, e.foreign)
		o.ObserveInt64(m.expired, s.Expired, e.base)
		o.ObserveInt64(m.retries, s.Retries, e.fetch)
		o.ObserveInt64(m.barrierErrors, t.BarrierErrors.Load(), e.base)
		for _, pl := range tm.Lag {
			if pl.HighWatermark >= 0 { // unknown is not zero
				o.ObserveInt64(m.lag, pl.Lag, e.sets.with(attribute.Int("partition", int(pl.Partition))))
			}
		}
		for i, sn := range metricsreg.Statuses {
			o.ObserveInt64(m.status, b2i(tm.Status == sn.Status), e.statuses[i])
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
	for _, w := range writers {
		o.ObserveInt64(m.retries, w.Retries.Load(), w.Data.produce)
		for i, op := range w.Data.ops {
			o.ObserveInt64(m.writeErrors, w.Errs[i].Load(), op)
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
