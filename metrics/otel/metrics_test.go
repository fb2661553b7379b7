package ktotel_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	ktotel "github.com/ktables/ktables/metrics/otel"
	"github.com/ktables/ktables/transport"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
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

func newMetrics(t *testing.T) (*ktotel.Metrics, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { mp.Shutdown(t.Context()) })
	m, err := ktotel.New(mp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, reader
}

// points flattens a collection into "name{k=v,...}" -> value; histograms
// give their count.
func points(t *testing.T, reader *sdkmetric.ManualReader) map[string]float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	key := func(name string, s attribute.Set) string {
		var parts []string
		for _, kv := range s.ToSlice() {
			parts = append(parts, string(kv.Key)+"="+kv.Value.String())
		}
		return name + "{" + strings.Join(parts, ",") + "}"
	}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != ktotel.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, md := range sm.Metrics {
			switch d := md.Data.(type) {
			case metricdata.Sum[int64]:
				if !d.IsMonotonic || d.Temporality != metricdata.CumulativeTemporality {
					t.Errorf("%s is not a cumulative counter", md.Name)
				}
				for _, p := range d.DataPoints {
					out[key(md.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[key(md.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					out[key(md.Name, p.Attributes)] = p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[key(md.Name, p.Attributes)] = float64(p.Count)
				}
			default:
				t.Errorf("%s: unexpected data %T", md.Name, md.Data)
			}
		}
	}
	return out
}

// The same instruments as the Prometheus collector, through the SDK's
// manual reader.
func TestInstruments(t *testing.T) {
	m, reader := newMetrics(t)
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
	tbl, err := ktables.Open(ctx, mc.Transport(), "flags", ktables.JSON[bool](), ktables.WithObserver(m), retry, ktables.WithTTL(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	w, err := ktables.OpenWriter(ctx, mc.Transport(), "flags", ktables.JSON[bool](), ktables.WithObserver(m), retry)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := m.AddTable(tbl, attribute.String("table", "main")); err != nil {
		t.Fatal(err)
	}
	if err := m.AddWriter(w, attribute.String("table", "main")); err != nil {
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

	got := points(t, reader)
	want := map[string]float64{
		"ktables.records.applied{kind=set,table=main,topic=flags}":         5,
		"ktables.expired{table=main,topic=flags}":                          1,
		"ktables.records.applied{kind=delete,table=main,topic=flags}":      2,
		"ktables.poison.records{kind=value_decode,table=main,topic=flags}": 1,
		"ktables.poison.records{kind=key_decode,table=main,topic=flags}":   0,
		"ktables.poison.records{kind=keyless,table=main,topic=flags}":      1,
		"ktables.poison.records{kind=foreign,table=main,topic=flags}":      0,
		"ktables.retries{op=fetch,table=main,topic=flags}":                 1,
		"ktables.retries{op=produce,table=main,topic=flags}":               1,
		"ktables.lag{partition=0,table=main,topic=flags}":                  0,
		"ktables.lag{partition=1,table=main,topic=flags}":                  0,
		"ktables.status{status=caught_up,table=main,topic=flags}":          1,
		"ktables.status{status=loading,table=main,topic=flags}":            0,
		"ktables.status{status=degraded,table=main,topic=flags}":           0,
		"ktables.status{status=failed,table=main,topic=flags}":             0,
		"ktables.status{status=closed,table=main,topic=flags}":             0,
		"ktables.stale{table=main,topic=flags}":                            0,
		"ktables.keys{table=main,topic=flags}":                             2,
		"ktables.partitions{table=main,topic=flags}":                       2,
		"ktables.barrier.errors{table=main,topic=flags}":                   0,
		"ktables.barrier.duration{table=main,topic=flags}":                 1,
		"ktables.waitfor.duration{table=main,topic=flags}":                 1,
		"ktables.write.duration{op=set,table=main,topic=flags}":            1,
		"ktables.write.duration{op=delete,table=main,topic=flags}":         1,
		"ktables.write.errors{op=set,table=main,topic=flags}":              0,
		"ktables.write.errors{op=delete,table=main,topic=flags}":           0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	for _, k := range []string{"ktables.catchup.duration{table=main,topic=flags}", "ktables.head_confirmed.time{table=main,topic=flags}"} {
		if got[k] <= 0 {
			t.Errorf("%s = %v, want > 0", k, got[k])
		}
	}
	if len(got) != len(want)+2 {
		t.Errorf("%d data points, want %d: %v", len(got), len(want)+2, got)
	}

	// Removed, a table is no longer read; Close stops the callback.
	if !m.Remove(tbl) || !m.Remove(w) || m.Remove(tbl) {
		t.Fatal("Remove reports what it removed")
	}
	for k := range points(t, reader) {
		if !strings.Contains(k, "duration") {
			t.Errorf("after Remove: %s still observed", k)
		}
	}
}

// Bad input: the same table twice, or two tables of one topic with equal
// attributes, is refused when added.
func TestDuplicates(t *testing.T) {
	m, reader := newMetrics(t)
	mc := cluster(t)
	open := func() *ktables.Table[[]byte] {
		tbl, err := ktables.Open(t.Context(), mc.Transport(), "flags", ktables.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tbl.Close() })
		return tbl
	}
	a, b := open(), open()
	if err := m.AddTable(a); err != nil {
		t.Fatal(err)
	}
	if err := m.AddTable(a, attribute.String("table", "x")); !errors.Is(err, ktotel.ErrDuplicate) {
		t.Fatalf("the same table twice: %v", err)
	}
	if err := m.AddTable(b); !errors.Is(err, ktotel.ErrDuplicate) {
		t.Fatalf("a second table of the topic: %v", err)
	}
	for name, attrs := range map[string][]attribute.KeyValue{
		"reserved":  {attribute.String("topic", "x")},
		"repeated":  {attribute.String("t", "x"), attribute.String("t", "y")},
		"empty key": {attribute.String("", "x")},
	} {
		if err := m.AddTable(b, attrs...); !errors.Is(err, ktotel.ErrInvalid) {
			t.Errorf("%s attributes: %v", name, err)
		}
	}
	if err := m.AddTable(b, attribute.String("table", "replica")); err != nil {
		t.Fatal(err)
	}
	got := points(t, reader)
	if got["ktables.keys{topic=flags}"] != 0 || len(got) == 0 {
		t.Fatalf("points %v", got)
	}
	if _, ok := got["ktables.keys{table=replica,topic=flags}"]; !ok {
		t.Fatalf("no point for the labelled table: %v", got)
	}
	if err := m.AddTable(nil); !errors.Is(err, ktotel.ErrInvalid) {
		t.Fatalf("nil table: %v", err)
	}
}

func TestNewInvalid(t *testing.T) {
	if _, err := ktotel.New(nil); !errors.Is(err, ktotel.ErrInvalid) {
		t.Fatalf("nil provider: %v", err)
	}
	mp := sdkmetric.NewMeterProvider()
	defer mp.Shutdown(t.Context())
	for name, opt := range map[string]ktotel.Option{
		"no buckets":       ktotel.WithBuckets(),
		"unsorted buckets": ktotel.WithBuckets(1, 1),
		"nil option":       nil,
	} {
		if _, err := ktotel.New(mp, opt); !errors.Is(err, ktotel.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
