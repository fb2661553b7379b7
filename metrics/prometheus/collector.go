package ktprom

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/internal/metricsreg"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultBuckets are the latency histogram buckets, in seconds: from half a
// millisecond (an idle Barrier on a local broker) to ten seconds (a write
// retried through a leader election).
var DefaultBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Collector is a prometheus.Collector for any number of tables and writers,
// and the ktables.Observer that feeds its latency histograms. Register it
// once; give it to every table and writer with ktables.WithObserver; add
// each with AddTable or AddWriter. It is safe for concurrent use.
//
// Counters and gauges are read from each table's Metrics at scrape time, so
// they cost nothing between scrapes; only the barrier and write histograms
// and the writers' counters are updated as things happen.
type Collector struct {
	ktables.NopObserver // Applied, StatusChanged, StaleChanged: read at scrape time instead

	labels []string // declared with WithLabels

	applied, poison, expired, retries, lag, status, stale, keys, partitions,
	catchUp, headConfirmed, barrierErrors, writeErrors *prometheus.Desc
	barrier, waitFor, write *prometheus.HistogramVec

	sources *metricsreg.Registry[tableData, writerData]
}

// tableData is what the collector keeps per table beside the registry's.
type tableData struct {
	values  []string
	barrier prometheus.Observer
	waitFor prometheus.Observer
}

// writerData is what the collector keeps per writer beside the registry's.
type writerData struct {
	src    ktables.Source
	values []string
	durs   [len(metricsreg.WriteOps)]prometheus.Observer // by metricsreg.OpIndex
}

var (
	_ prometheus.Collector    = (*Collector)(nil)
	_ ktables.Observer        = (*Collector)(nil)
	_ ktables.WaitForObserver = (*Collector)(nil)
)

// Option configures New.
type Option func(*options) error

type options struct {
	labels  []string
	buckets []float64
}

// WithLabels declares labels that every added table and writer gives a
// value for, in this order, after topic: use one (say "table") to tell
// apart two tables of the same topic in one process.
func WithLabels(names ...string) Option {
	return func(o *options) error {
		for i, n := range names {
			if err := checkLabel(n); err != nil {
				return err
			}
			if slices.Contains(names[:i], n) {
				return fmt.Errorf("%w: label %q declared twice", ErrInvalid, n)
			}
		}
		o.labels = slices.Clone(names)
		return nil
	}
}

// WithBuckets sets the latency histogram buckets, in seconds, strictly
// increasing (default DefaultBuckets).
func WithBuckets(buckets ...float64) Option {
	return func(o *options) error {
		b, err := metricsreg.Buckets(buckets, ErrInvalid)
		o.buckets = b
		return err
	}
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func checkLabel(n string) error {
	switch {
	case !labelName.MatchString(n) || strings.HasPrefix(n, "__"):
		return fmt.Errorf("%w: %q is not a valid label name", ErrInvalid, n)
	case metricsreg.Reserved(n) || n == "le": // le: the histograms' bucket label
		return fmt.Errorf("%w: label %q is set by the collector", ErrInvalid, n)
	}
	return nil
}

// New returns a Collector with no tables or writers. Bad options are an
// error matching ErrInvalid.
func New(opts ...Option) (*Collector, error) {
	o := options{buckets: DefaultBuckets}
	if err := metricsreg.Apply(&o, opts, ErrInvalid); err != nil {
		return nil, err
	}
	c := &Collector{
		labels:  o.labels,
		sources: metricsreg.New[tableData, writerData](ErrDuplicate),
	}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("ktables_"+name, help, append(append([]string{"topic"}, labels...), o.labels...), nil)
	}
	c.applied = desc("records_applied_total", "Records a table applied, by kind: set (a key set) or delete (a tombstone).", "kind")
	c.poison = desc("poison_records_total", "Records a table skipped, by kind: value_decode, key_decode, keyless or foreign (a key a grouped table cannot split).", "kind")
	c.expired = desc("expired_total", "Keys (members, for a grouped table) a table opened with a TTL hid because their last record got older than it.")
	c.retries = desc("retries_total", "Transient errors retried, by op: fetch (tables) or produce (writers).", "op")
	c.lag = desc("lag_records", "Records a table is behind the high watermark its fetches last reported, per partition.", "partition")
	c.status = desc("status", "A table's lifecycle state: 1 for the current status, 0 for the others.", "status")
	c.stale = desc("stale", "1 when a table went longer than its maximum staleness without confirming it is at the head.")
	c.keys = desc("keys", "Keys a table holds (members, for a grouped table).")
	c.partitions = desc("partitions", "Partitions a table reads.")
	c.catchUp = desc("catchup_duration_seconds", "How long a table took to catch up after Open; absent until it did.")
	c.headConfirmed = desc("head_confirmed_timestamp_seconds", "When a table last confirmed it was at the head of every partition, as a Unix time; absent until it did.")
	c.barrierErrors = desc("barrier_errors_total", "Barriers that returned an error (context ended, table closed or failed, offsets request failed).")
	c.writeErrors = desc("write_errors_total", "Writes that returned an error, by op: set or delete.", "op")
	c.barrier = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ktables_barrier_duration_seconds", Help: "How long Barrier calls took, successful or not.", Buckets: o.buckets,
	}, append([]string{"topic"}, o.labels...))
	c.waitFor = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ktables_waitfor_duration_seconds", Help: "How long WaitFor and WaitForChecked calls took, successful or not; near zero for a token already applied.", Buckets: o.buckets,
	}, append([]string{"topic"}, o.labels...))
	c.write = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ktables_write_duration_seconds", Help: "How long writes took until acknowledged or failed, retries included, by op: set or delete.", Buckets: o.buckets,
	}, append([]string{"topic", "op"}, o.labels...))
	return c, nil
}

// key is what makes a source's series distinct besides its kind: topic and
// label values.
func key(topic string, values []string) string {
	return topic + "\x00" + strings.Join(values, "\x00")
}

// checkValues checks that values match the declared labels.
func (c *Collector) checkValues(values []string) error {
	if len(values) != len(c.labels) {
		return fmt.Errorf("%w: %d label values %q for the %d labels %q declared with WithLabels",
			ErrInvalid, len(values), values, len(c.labels), c.labels)
	}
	return nil
}

// collision words the refusal of a source whose series another has.
func (c *Collector) collision(values []string) metricsreg.Collision {
	return func(src, other ktables.Source) error {
		hint := "declare a label with WithLabels and give each a different value"
		if len(c.labels) > 0 {
			hint = fmt.Sprintf("give each different values for %q", c.labels)
		}
		return fmt.Errorf("%w: %v and %v would export the same series (topic %q, label values %q): %s",
			ErrDuplicate, src, other, src.Topic, values, hint)
	}
}

// AddTable adds a table (a *ktables.Table or *ktables.GroupedTable), with a
// value for each label declared with WithLabels. Adding it twice, or a
// second table of the same topic with the same label values, is an error
// matching ErrDuplicate: the collector refuses at once instead of failing
// every scrape. Open the table with ktables.WithObserver(c) for its barrier
// histogram.
func (c *Collector) AddTable(t ktables.MetricsSource, labelValues ...string) error {
	if t == nil {
		return fmt.Errorf("%w: nil table", ErrInvalid)
	}
	if err := c.checkValues(labelValues); err != nil {
		return err
	}
	src := t.Source()
	values := slices.Clone(labelValues)
	return c.sources.AddTable(t, key(src.Topic, values), c.collision(values), func() tableData {
		lv := append([]string{src.Topic}, values...)
		return tableData{values: values, barrier: c.barrier.WithLabelValues(lv...), waitFor: c.waitFor.WithLabelValues(lv...)}
	})
}

// AddWriter adds a writer (a *ktables.Writer or *ktables.GroupedWriter),
// with a value for each label declared with WithLabels; duplicates are
// refused like AddTable's. Open the writer with ktables.WithObserver(c):
// everything a writer exports comes from its events.
func (c *Collector) AddWriter(w ktables.WriterSource, labelValues ...string) error {
	if w == nil {
		return fmt.Errorf("%w: nil writer", ErrInvalid)
	}
	if err := c.checkValues(labelValues); err != nil {
		return err
	}
	src := w.Source()
	values := slices.Clone(labelValues)
	return c.sources.AddWriter(src, key(src.Topic, values), c.collision(values), func() writerData {
		d := writerData{src: src, values: values}
		for i, op := range metricsreg.WriteOps {
			d.durs[i] = c.write.WithLabelValues(append([]string{src.Topic, op}, values...)...)
		}
		return d
	})
}

// Remove drops a table or writer added before, and its series; it reports
// whether it was there. Remove a table or writer you close for good, or its
// last values stay exported.
func (c *Collector) Remove(s ktables.WriterSource) bool {
	if s == nil {
		return false
	}
	src := s.Source()
	return c.sources.Remove(src, func(t *metricsreg.Table[tableData], w *metricsreg.Writer[writerData]) {
		if t != nil {
			c.barrier.DeleteLabelValues(append([]string{src.Topic}, t.Data.values...)...)
			c.waitFor.DeleteLabelValues(append([]string{src.Topic}, t.Data.values...)...)
			return
		}
		for _, op := range metricsreg.WriteOps {
			c.write.DeleteLabelValues(append([]string{src.Topic, op}, w.Data.values...)...)
		}
	})
}

// Barrier records a Barrier's duration (ktables.Observer).
func (c *Collector) Barrier(ev ktables.BarrierEvent) {
	if e := c.sources.Barrier(ev); e != nil {
		e.Data.barrier.Observe(ev.Duration.Seconds())
	}
}

// WaitedFor records a WaitFor's or WaitForChecked's duration
// (ktables.WaitForObserver).
func (c *Collector) WaitedFor(ev ktables.WaitForEvent) {
	if e := c.sources.WaitedFor(ev); e != nil {
		e.Data.waitFor.Observe(ev.Duration.Seconds())
	}
}

// Wrote records a write's duration (ktables.Observer).
func (c *Collector) Wrote(ev ktables.WriteEvent) {
	if e, op := c.sources.Wrote(ev); e != nil {
		e.Data.durs[op].Observe(ev.Duration.Seconds())
	}
}

// Retried counts a writer's retries (ktables.Observer); a table's come
// from its Stats at scrape time.
func (c *Collector) Retried(ev ktables.RetryEvent) { c.sources.Retried(ev) }

// Describe sends every metric's descriptor (prometheus.Collector).
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.applied, c.poison, c.expired, c.retries, c.lag, c.status, c.stale, c.keys,
		c.partitions, c.catchUp, c.headConfirmed, c.barrierErrors, c.writeErrors} {
		ch <- d
	}
	c.barrier.Describe(ch)
	c.waitFor.Describe(ch)
	c.write.Describe(ch)
}

// Collect reads every table's Metrics and sends the series
// (prometheus.Collector). It holds no lock while reading tables.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	tables, writers := c.sources.Snapshot()
	for _, e := range tables {
		c.collectTable(ch, e)
	}
	for _, e := range writers {
		send := sender{ch: ch, topic: e.Data.src.Topic, values: e.Data.values}
		send.metric(c.retries, prometheus.CounterValue, float64(e.Retries.Load()), "produce")
		for i, op := range metricsreg.WriteOps {
			send.metric(c.writeErrors, prometheus.CounterValue, float64(e.Errs[i].Load()), op)
		}
	}
	c.barrier.Collect(ch)
	c.waitFor.Collect(ch)
	c.write.Collect(ch)
}

func (c *Collector) collectTable(ch chan<- prometheus.Metric, e *metricsreg.Table[tableData]) {
	m := e.Source.Metrics()
	s := m.Stats
	send := sender{ch: ch, topic: m.Source.Topic, values: e.Data.values}
	counter, gauge := prometheus.CounterValue, prometheus.GaugeValue
	send.metric(c.applied, counter, float64(s.RecordsApplied), "set")
	send.metric(c.applied, counter, float64(s.TombstonesApplied), "delete")
	send.metric(c.poison, counter, float64(s.ValueDecodeErrors), "value_decode")
	send.metric(c.poison, counter, float64(s.KeyDecodeErrors), "key_decode")
	send.metric(c.poison, counter, float64(s.KeylessRecords), "keyless")
	send.metric(c.poison, counter, float64(s.ForeignKeys), "foreign")
	send.metric(c.expired, counter, float64(s.Expired))
	send.metric(c.retries, counter, float64(s.Retries), "fetch")
	for _, pl := range m.Lag {
		if pl.HighWatermark >= 0 { // unknown is not zero
			send.metric(c.lag, gauge, float64(pl.Lag), strconv.Itoa(int(pl.Partition)))
		}
	}
	for _, sn := range metricsreg.Statuses {
		send.metric(c.status, gauge, b2f(m.Status == sn.Status), sn.Name)
	}
	send.metric(c.stale, gauge, b2f(m.Stale))
	send.metric(c.keys, gauge, float64(m.Keys))
	send.metric(c.partitions, gauge, float64(s.Partitions))
	if s.CatchUpDuration > 0 {
		send.metric(c.catchUp, gauge, s.CatchUpDuration.Seconds())
	}
	if !s.HeadConfirmed.IsZero() {
		send.metric(c.headConfirmed, gauge, float64(s.HeadConfirmed.UnixNano())/1e9)
	}
	send.metric(c.barrierErrors, counter, float64(e.BarrierErrors.Load()))
}

// sender builds one source's const metrics: topic, then the metric's own
// labels, then the declared labels.
type sender struct {
	ch     chan<- prometheus.Metric
	topic  string
	values []string
}

func (s sender) metric(d *prometheus.Desc, t prometheus.ValueType, v float64, own ...string) {
	lv := make([]string, 0, 1+len(own)+len(s.values))
	lv = append(append(append(lv, s.topic), own...), s.values...)
	m, err := prometheus.NewConstMetric(d, t, v, lv...)
	if err != nil {
		// A scrape reports the error instead of panicking; AddTable's checks
		// make this unreachable.
		m = prometheus.NewInvalidMetric(d, err)
	}
	s.ch <- m
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
