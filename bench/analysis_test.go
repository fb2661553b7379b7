package bench

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/ktables/ktables/memtransport"
)

// The notes explain; the tables carry the figures. A digit in the notes
// would be a claim the next run could contradict (issue 17).
func TestNotesCarryNoFigures(t *testing.T) {
	notes := parseNotes(notes)
	if len(notes) == 0 {
		t.Fatal("no notes parsed")
	}
	digit := regexp.MustCompile(`[0-9]`)
	for k, v := range notes {
		if digit.MatchString(v) {
			t.Errorf("note %q carries a figure: %q", k, digit.FindString(v))
		}
		sc, _, _ := strings.Cut(k, ": ")
		if scenarioByName(sc) == nil {
			t.Errorf("note %q names no scenario", k)
		}
	}
}

// The analysis lists exactly the misses and failures the tables hold, with
// their figures, and the note for each miss.
func TestAnalysisFollowsTables(t *testing.T) {
	rep := &Report{Results: []AdapterResult{{
		Adapter: Adapter{Name: "franz"},
		Metrics: []*Metric{
			{Scenario: "reads", Name: "Get, 1,024 hot keys, serial", Unit: "ns/op", KT: []float64{30}, Raw: []float64{10},
				Target: &Target{RatioAtMost, 1.3}},
			{Scenario: "reads", Name: "Snapshot (100k keys), serial", Unit: "ns/op", KT: []float64{10}, Raw: []float64{10},
				Target: &Target{RatioAtMost, 2}},
			{Scenario: "memory", Name: "uncompacted replay, 100k keys × 10 versions, bytes", Unit: "B/key",
				Target: &Target{AtMost, 170}, Err: "the broker compacted the log: the table replayed 5 of 10 records"},
		},
		Scale: []ScalePoint{{Records: 1_000_000, KT: 1e6, Raw: 1e6}, {Records: 10_000_000, KT: 5e5, Raw: 1e6}},
	}}}
	a := analysis(rep, notes)
	for _, want := range []string{
		"**franz**: 1 of 3 targets met.",
		"- *reads: Get, 1,024 hot keys, serial* (target ≤ 1.3× raw): franz 3.00×\n\n  `Get` takes no lock",
		"franz FAILED (the broker compacted the log",
		"ns/record at 10M is 2.00× that at 1M (target ≤ 1.15×, missed)",
	} {
		if !strings.Contains(a, want) {
			t.Errorf("analysis lacks %q:\n%s", want, a)
		}
	}
	if strings.Contains(a, "Snapshot") {
		t.Errorf("analysis lists a met target:\n%s", a)
	}
}

// A log the broker compacted behind the benchmark's back fails the row
// rather than measuring a replay that was not uncompacted (issue 17).
func TestMemoryFailsOnCompactedLog(t *testing.T) {
	mc := memtransport.NewCluster()
	defer mc.Close()
	cfg := DefaultConfig(true)
	e := &Env{Ctx: context.Background(), Cfg: &cfg}
	src := &memSource{name: "memtransport", e: e, mem: mc}
	c := memCase{kind: "replay", codec: "bytes", keys: 100, versions: 3}
	m := &Metric{}
	if err := src.measure(c, m); err != nil || len(m.KT) == 0 {
		t.Fatalf("uncompacted log: %v, %v", err, m.KT)
	}
	if err := mc.Compact(src.topic); err != nil {
		t.Fatal(err)
	}
	m = &Metric{}
	err := src.measure(c, m)
	if err == nil || !strings.Contains(err.Error(), "compacted") || len(m.KT) != 0 {
		t.Fatalf("compacted log: err %v, figures %v", err, m.KT)
	}
}

// The Python comparison finds the memory rows by their names.
func TestPythonSectionFindsMemory(t *testing.T) {
	rep := &Report{Results: []AdapterResult{{
		Adapter: Adapter{Name: "franz"},
		Metrics: []*Metric{{Scenario: "memory", Name: "flat, 1M keys, bytes", Unit: "B/key",
			Note: "payload 113 B/key", KT: []float64{151}}},
	}}}
	if s := pythonSection(rep); !strings.Contains(s, "payload + 38.0 B (1M keys)") {
		t.Fatalf("memory figure missing:\n%s", s)
	}
}
