package bench

import (
	"fmt"
	"strings"
)

// The Python library's published figures (Apple M3, Redpanda).
var pythonFigures = []struct {
	label, python string
	find          func(ar AdapterResult) string
}{
	{"propagation p50", "0.64 ms", med("propagation", "p50")},
	{"propagation p99", "0.91 ms", med("propagation", "p99")},
	{"idle barrier p50, default settings", "~500–700 ms", med("barrier", "idle, default fetch wait p50")},
	{"idle barrier p50, tuned", "~30 ms", med("barrier", "idle, WithFetchMaxWait(50ms) p50")},
	{"write latency p50, 1 in flight", "0.26 ms", med("writes", "latency p50, 1 in flight")},
	{"writes/s at 64 in flight", "~18k", med("writes", "throughput, 64 writers")},
	{"catch-up records/s (bytes)", "540–785k", med("catchup", "1M bytes flat, 1 part", "100k bytes flat, 1 part")},
	{"catch-up records/s (JSON)", "~404k", med("catchup", "1M json flat, 1 part", "100k json flat, 1 part", "10k json flat, 1 part")},
	{"memory per key (flat)", "≈ payload + ~100 B", overhead("1M", "100k", "10k")},
	{"idle reader CPU", "0.5–1.7% of a core", medPrefix("idlecpu", "idle reader")},
}

func findMetric(ar AdapterResult, scenario, name string, prefix bool) *Metric {
	for _, m := range ar.Metrics {
		if m.Scenario == scenario && (m.Name == name || prefix && strings.HasPrefix(m.Name, name)) {
			return m
		}
	}
	return nil
}

func medCell(m *Metric) string {
	if m == nil {
		return "not run"
	}
	if m.Err != "" || len(m.KT) == 0 {
		return "FAILED"
	}
	return fmtNum(Summarize(m.KT).Median) + " " + m.Unit
}

func med(scenario string, names ...string) func(AdapterResult) string {
	return func(ar AdapterResult) string {
		for _, n := range names {
			if m := findMetric(ar, scenario, n, false); m != nil {
				return medCell(m) + " (" + n + ")"
			}
		}
		return "not run"
	}
}

func medPrefix(scenario, prefix string) func(AdapterResult) string {
	return func(ar AdapterResult) string { return medCell(findMetric(ar, scenario, prefix, true)) }
}

func overhead(sizes ...string) func(AdapterResult) string {
	return func(ar AdapterResult) string {
		for _, s := range sizes {
			m := findMetric(ar, "memory", "flat, "+s+" keys, bytes", false)
			if m == nil {
				continue
			}
			if m.Err != "" || len(m.KT) == 0 {
				return "FAILED"
			}
			var payload float64
			fmt.Sscanf(m.Note, "payload %g B/key", &payload)
			return fmt.Sprintf("payload + %s B (%s keys)", fmtNum(Summarize(m.KT).Median-payload), s)
		}
		return "not run"
	}
}

func pythonSection(rep *Report) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("## Beside the Python library's published figures")
	p("")
	p("The Python column is the Python library's own published figures, measured on **a different machine and")
	p("broker** (Apple M3, Redpanda); the other columns are this run (%s, %d cores; %s).", rep.Machine.CPU, rep.Machine.Cores, rep.Broker)
	p("Absolute numbers across machines and brokers are indicative only; the ratios to raw above are the claims.")
	p("")
	head, sep := "| figure | Python (M3, Redpanda) |", "|---|---|"
	for _, ar := range rep.Results {
		head += " Go, " + ar.Adapter.Name + " (this run) |"
		sep += "---|"
	}
	p("%s", head)
	p("%s", sep)
	for _, f := range pythonFigures {
		row := "| " + f.label + " | " + f.python + " |"
		for _, ar := range rep.Results {
			row += " " + esc(f.find(ar)) + " |"
		}
		p("%s", row)
	}
	p("")
	return b.String()
}
