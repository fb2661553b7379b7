package bench

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

func TestMain(m *testing.M) {
	RunChildIfRequested()
	os.Exit(m.Run())
}

// memTables loads a flat table of n FlatKey keys and a grouped table of n
// GroupedKey members on memtransport: the read path does not depend on the
// transport.
func memTables(tb testing.TB, n int) (*ktables.Table[[]byte], *ktables.GroupedTable[[]byte]) {
	c := memtransport.NewCluster()
	tb.Cleanup(func() { c.Close() })
	ctx := context.Background()
	for _, t := range []struct {
		name string
		key  func(int) []byte
	}{{"flat", FlatKey}, {"grouped", GroupedKey}} {
		if err := c.CreateTopic(transport.TopicSpec{Name: t.name, Partitions: 1}); err != nil {
			tb.Fatal(err)
		}
		for i := range n {
			if _, err := c.Append(t.name, transport.Record{Key: t.key(i), Value: Value(i)}); err != nil {
				tb.Fatal(err)
			}
		}
	}
	flat, err := ktables.Open(ctx, c.Transport(), "flat", ktables.Bytes())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { flat.Close() })
	grouped, err := ktables.OpenGrouped(ctx, c.Transport(), "grouped", ktables.Bytes())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { grouped.Close() })
	return flat, grouped
}

// BenchmarkReads: Get, Has, Members and Snapshot on ktables and on the
// baseline (an unsynchronized map, maps.Clone for copies), serial and
// parallel, over 100k keys. Targets: Get ≤ 1.3×, Snapshot ≤ 2×, Members ≤
// 1.5× the baseline.
func BenchmarkReads(b *testing.B) {
	flat, grouped := memTables(b, 100_000)
	for _, op := range ReadOps(flat, grouped, 100_000) {
		for _, side := range []struct {
			name string
			f    func(int)
		}{{"ktables", op.KT}, {"raw", op.Raw}} {
			b.Run(strings.ReplaceAll(op.Name, " ", "_")+"/"+side.name+"/serial", func(b *testing.B) {
				i := 0
				for b.Loop() {
					side.f(i)
					i++
				}
			})
			b.Run(strings.ReplaceAll(op.Name, " ", "_")+"/"+side.name+"/parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						side.f(i)
						i++
					}
				})
			})
		}
	}
}

func TestReadOpsAgree(t *testing.T) {
	flat, grouped := memTables(t, 1000)
	if flat.Len() != 1000 || grouped.TotalMembers() != 1000 {
		t.Fatalf("loaded %d flat, %d grouped", flat.Len(), grouped.TotalMembers())
	}
	for _, op := range ReadOps(flat, grouped, 1000) {
		op.KT(1)
		op.Raw(1)
	}
	if v, ok := flat.Get(string(FlatKey(7))); !ok || len(v) != ValueSize {
		t.Fatalf("value %q", v)
	}
	if len(grouped.Members(GroupName(3))) != 100 {
		t.Fatal("group of 100 expected")
	}
}

func TestValueIsJSONOfValueSize(t *testing.T) {
	for _, i := range []int{0, 7, 999_999_999, 1_234_567_890} {
		v := Value(i)
		if len(v) != ValueSize {
			t.Fatalf("Value(%d) is %d bytes", i, len(v))
		}
		if _, err := ktables.JSON[Payload]().Decode(v); err != nil {
			t.Fatalf("Value(%d) = %s: %v", i, v, err)
		}
	}
}

func TestParseAdapters(t *testing.T) {
	all, err := ParseAdapters("")
	if err != nil || len(all) != len(Adapters) {
		t.Fatalf("all: %v %v", all, err)
	}
	two, err := ParseAdapters("kafkago, franz")
	if err != nil || len(two) != 2 || two[0].Name != "kafkago" {
		t.Fatalf("two: %v %v", two, err)
	}
	if _, err := ParseAdapters("franz,nope"); err == nil || !strings.Contains(err.Error(), `unknown adapter "nope"`) {
		t.Fatalf("unknown adapter: %v", err)
	}
	if _, err := ParseAdapters("franz,franz"); err == nil {
		t.Fatal("duplicate accepted")
	}
}

func TestValidate(t *testing.T) {
	cfg := DefaultConfig(true)
	cfg.Adapters = Adapters
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := cfg
	bad.Repeats = 0
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "repeats") {
		t.Fatalf("repeats 0: %v", err)
	}
	bad = cfg
	bad.Adapters = nil
	if err := bad.Validate(); err == nil {
		t.Fatal("no adapters accepted")
	}
	bad = cfg
	bad.Scenarios = []string{"nope"}
	if err := bad.Validate(); err == nil {
		t.Fatal("unknown scenario accepted")
	}
}

func TestMetricRowAndTargets(t *testing.T) {
	m := &Metric{Scenario: "catchup", Name: "1M", Unit: "records/s", KT: []float64{90, 100, 110}, Raw: []float64{100, 100, 100},
		Target: &Target{RatioAtLeast, 0.9}}
	if r := m.Ratio(); r != 1 {
		t.Fatalf("ratio %v", r)
	}
	if met, ok := m.Met(); !ok || !met {
		t.Fatal("target should be met")
	}
	row := MetricRow(m)
	for _, want := range []string{"100 (90.0–110) records/s", "1.00×", "≥ 0.9× raw", "met"} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}
	failed := &Metric{Scenario: "writes", Name: "scenario", Err: "broker | gone", KT: []float64{1}, Target: &Target{AtMost, 2}}
	row = MetricRow(failed)
	if !strings.Contains(row, "FAILED: broker \\| gone") || !strings.Contains(row, "**FAILED**") {
		t.Errorf("failed row %q", row)
	}
	if strings.Contains(row, "| 1 ") {
		t.Errorf("failed row shows a number: %q", row)
	}
	if _, ok := failed.Met(); ok {
		t.Error("a failed metric has no verdict")
	}
	none := &Metric{KT: []float64{1}}
	if !math.IsNaN(none.Ratio()) {
		t.Error("ratio without baseline")
	}
}

func TestUnreachableBroker(t *testing.T) {
	// A port nothing listens on: the listener is closed before the check.
	cfg := DefaultConfig(true)
	cfg.Adapters = Adapters[:1]
	cfg.Brokers = []string{closedAddr(t)}
	_, err := Run(context.Background(), &cfg)
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("err = %v", err)
	}
}
