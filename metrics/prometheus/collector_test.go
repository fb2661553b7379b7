package ktprom_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	ktprom "github.com/ktables/ktables/metrics/prometheus"
	"github.com/ktables/ktables/transport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func cluster(t *testing.T) *memtransport.Cluster {
	t.Helper()
	c := memtransport.NewCluster(memtransport.WithDefaultFetchWait(50 * time.Millisecond))
	t.Cleanup(func() { c.Close() })
	if err := c.CreateTopic(transport.TopicSpec{Name: "flags", Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	return c
}

func appendRec(t *testing.T, c *memtransport.Cluster, p int32, key, value []byte) {
	t.Helper()
	if _, err := c.Append("flags", transport.Record{Key: key, Value: value, Partition: p}); err != nil {
		t.Fatal(err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling interval, not synchronization
	}
}

// scrapeFixture opens a table and a writer of "flags" that did one of
// everything: sets, a tombstone, each kind of poison a flat table can
// meet, a fetch retry, a produce retry, a barrier.
func scrapeFixture(t *testing.T, c *ktprom.Collector) {
	t.Helper()
	mc := cluster(t)
	ctx := t.Context()
	appendRec(t, mc, 0, []byte("dark-mode"), []byte(`true`))
	appendRec(t, mc, 1, []byte("beta"), []byte(`false`))
	appendRec(t, mc, 0, []byte("beta-old"), []byte(`true`))
	appendRec(t, mc, 0, []byte("beta-old"), nil)
	appendRec(t, mc, 1, nil, []byte(`true`))
	appendRec(t, mc, 1, []byte("typo"), []byte(`ture`))
	// A key set, then hidden by a record already older than the TTL.
	appendRec(t, mc, 1, []byte("gone"), []byte(`true`))
	if _, err := mc.Append("flags", transport.Record{Key: []byte("gone"), Value: []byte(`true`), Partition: 1, Timestamp: time.Now().Add(-2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	retry := ktables.WithRetryBackoff(time.Millisecond, 5*time.Millisecond)
	tbl, err := ktables.Open(ctx, mc.Transport(), "flags", ktables.JSON[bool](), ktables.WithObserver(c), retry, ktables.WithTTL(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tbl.Close() })
	w, err := ktables.OpenWriter(ctx, mc.Transport(), "flags", ktables.JSON[bool](), ktables.WithObserver(c), retry)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if err := c.AddTable(tbl); err != nil {
		t.Fatal(err)
	}
	if err := c.AddWriter(w); err != nil {
		t.Fatal(err)
	}

	mc.FailNext(memtransport.OpFetch, 1, nil)
	eventually(t, "a fetch retry", func() bool { return tbl.Stats().Retries == 1 })
	mc.FailNext(memtransport.OpProduce, 1, nil)
	if err := w.Set(ctx, "new-ui", true); err != nil {
		t.Fatal(err)
	}
	if err := w.Delete(ctx, "dark-mode"); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tbl.WaitFor(ctx, tbl.Position()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "lag known on both partitions", func() bool {
		for _, pl := range tbl.Lag() {
			if pl.HighWatermark < 0 {
				return false
			}
		}
		return true
	})
}

// The exposition a scrape gives, checked line by line. The README's sample
// scrape is copied from here.
const wantScrape = `
# HELP ktables_expired_total Keys (members, for a grouped table) a table opened with a TTL hid because their last record got older than it.
# TYPE ktables_expired_total counter
ktables_expired_total{topic="flags"} 1
# HELP ktables_keys Keys a table holds (members, for a grouped table).
# TYPE ktables_keys gauge
ktables_keys{topic="flags"} 2
# HELP ktables_lag_records Records a table is behind the high watermark its fetches last reported, per partition.
# TYPE ktables_lag_records gauge
ktables_lag_records{partition="0",topic="flags"} 0
ktables_lag_records{partition="1",topic="flags"} 0
# HELP ktables_poison_records_total Records a table skipped, by kind: value_decode, key_decode, keyless or foreign (a key a grouped table cannot split).
# TYPE ktables_poison_records_total counter
ktables_poison_records_total{kind="foreign",topic="flags"} 0
ktables_poison_records_total{kind="key_decode",topic="flags"} 0
ktables_poison_records_total{kind="keyless",topic="flags"} 1
ktables_poison_records_total{kind="value_decode",topic="flags"} 1
# HELP ktables_records_applied_total Records a table applied, by kind: set (a key set) or delete (a tombstone).
# TYPE ktables_records_applied_total counter
ktables_records_applied_total{kind="delete",topic="flags"} 2
ktables_records_applied_total{kind="set",topic="flags"} 5
# HELP ktables_retries_total Transient errors retried, by op: fetch (tables) or produce (writers).
# TYPE ktables_retries_total counter
ktables_retries_total{op="fetch",topic="flags"} 1
ktables_retries_total{op="produce",topic="flags"} 1
# HELP ktables_stale 1 when a table went longer than its maximum staleness without confirming it is at the head.
# TYPE ktables_stale gauge
ktables_stale{topic="flags"} 0
# HELP ktables_status A table's lifecycle state: 1 for the current status, 0 for the others.
# TYPE ktables_status gauge
ktables_status{status="caught_up",topic="flags"} 1
ktables_status{status="closed",topic="flags"} 0
ktables_status{status="degraded",topic="flags"} 0
ktables_status{status="failed",topic="flags"} 0
ktables_status{status="loading",topic="flags"} 0
# HELP ktables_write_errors_total Writes that returned an error, by op: set or delete.
# TYPE ktables_write_errors_total counter
ktables_write_errors_total{op="delete",topic="flags"} 0
ktables_write_errors_total{op="set",topic="flags"} 0
`

func TestScrape(t *testing.T) {
	c, err := ktprom.New()
	if err != nil {
		t.Fatal(err)
	}
	scrapeFixture(t, c)
	if err := testutil.CollectAndCompare(c, strings.NewReader(wantScrape),
		"ktables_expired_total", "ktables_keys", "ktables_lag_records", "ktables_poison_records_total", "ktables_records_applied_total",
		"ktables_retries_total", "ktables_stale", "ktables_status", "ktables_write_errors_total"); err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %+v", err, problems)
	}

	// Latencies and times vary: check the series exist with the right counts.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" {
					key += "/" + l.GetValue()
				}
			}
			switch {
			case m.GetHistogram() != nil:
				got[key] = m.GetHistogram().GetSampleCount()
			case m.GetGauge() != nil && m.GetGauge().GetValue() > 0:
				got[key] = 1
			}
		}
	}
	for key, n := range map[string]uint64{
		"ktables_barrier_duration_seconds":         1,
		"ktables_waitfor_duration_seconds":         1,
		"ktables_write_duration_seconds/set":       1,
		"ktables_write_duration_seconds/delete":    1,
		"ktables_catchup_duration_seconds":         1,
		"ktables_head_confirmed_timestamp_seconds": 1,
		"ktables_partitions":                       1,
	} {
		if got[key] != n {
			t.Errorf("%s: got %d, want %d (all: %v)", key, got[key], n, got)
		}
	}
}

// Bad input: the same table twice, or two tables of one topic without a
// distinguishing label, is refused when added; a scrape never fails.
func TestDuplicates(t *testing.T) {
	mc := cluster(t)
	ctx := t.Context()
	open := func() *ktables.Table[[]byte] {
		tbl, err := ktables.Open(ctx, mc.Transport(), "flags", ktables.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tbl.Close() })
		return tbl
	}
	a, b := open(), open()

	c, _ := ktprom.New()
	if err := c.AddTable(a); err != nil {
		t.Fatal(err)
	}
	if err := c.AddTable(a); !errors.Is(err, ktprom.ErrDuplicate) {
		t.Fatalf("the same table twice: %v", err)
	}
	err := c.AddTable(b)
	if !errors.Is(err, ktprom.ErrDuplicate) || !strings.Contains(err.Error(), "WithLabels") {
		t.Fatalf("a second table of the topic: %v", err)
	}
	if err := c.AddTable(b, "x"); !errors.Is(err, ktprom.ErrInvalid) {
		t.Fatalf("an undeclared label value: %v", err)
	}
	if !c.Remove(a) || c.Remove(a) {
		t.Fatal("Remove reports what it removed")
	}
	if err := c.AddTable(b); err != nil {
		t.Fatalf("after removing the first: %v", err)
	}

	// A declared label tells them apart; the registry gathers both.
	c, err = ktprom.New(ktprom.WithLabels("table"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddTable(a, "primary"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddTable(b, "primary"); !errors.Is(err, ktprom.ErrDuplicate) {
		t.Fatalf("same label values: %v", err)
	}
	if err := c.AddTable(b); !errors.Is(err, ktprom.ErrInvalid) {
		t.Fatalf("a missing label value: %v", err)
	}
	if err := c.AddTable(b, "replica"); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("gather two labelled tables: %v", err)
	}
	if n := testutil.CollectAndCount(c, "ktables_keys"); n != 2 {
		t.Fatalf("ktables_keys series: %d, want 2", n)
	}

	// A table and a writer of one topic do not collide.
	w, err := ktables.OpenWriter(ctx, mc.Transport(), "flags", ktables.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := c.AddWriter(w, "primary"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddWriter(w, "other"); !errors.Is(err, ktprom.ErrDuplicate) {
		t.Fatalf("the same writer twice: %v", err)
	}
	if err := c.AddTable(nil); !errors.Is(err, ktprom.ErrInvalid) {
		t.Fatalf("nil table: %v", err)
	}
}

func TestNewInvalid(t *testing.T) {
	for name, opt := range map[string]ktprom.Option{
		"reserved label":   ktprom.WithLabels("topic"),
		"bad label":        ktprom.WithLabels("a-b"),
		"double label":     ktprom.WithLabels("t", "t"),
		"internal label":   ktprom.WithLabels("__x"),
		"no buckets":       ktprom.WithBuckets(),
		"unsorted buckets": ktprom.WithBuckets(1, 0.5),
		"nil option":       nil,
	} {
		if _, err := ktprom.New(opt); !errors.Is(err, ktprom.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Events from a table or writer never added are ignored, not a panic.
func TestEventsFromUnknownSources(t *testing.T) {
	mc := cluster(t)
	c, _ := ktprom.New()
	tbl, err := ktables.Open(context.Background(), mc.Transport(), "flags", ktables.Bytes(), ktables.WithObserver(c))
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	if err := tbl.Barrier(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Fatalf("%d series from a collector with nothing added", n)
	}
}
