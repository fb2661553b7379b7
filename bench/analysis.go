package bench

import (
	"fmt"
	"math"
	"strings"
)

// parseNotes splits notes.md into explanations keyed by "scenario" or
// "scenario: metric-name prefix" (its "### " headings).
func parseNotes(md string) map[string]string {
	out := map[string]string{}
	var key string
	var body []string
	flush := func() {
		if key != "" {
			out[key] = strings.TrimSpace(strings.Join(body, " "))
		}
	}
	for _, line := range strings.Split(md, "\n") {
		if h, ok := strings.CutPrefix(line, "### "); ok {
			flush()
			key, body = strings.TrimSpace(h), nil
			continue
		}
		if key != "" {
			body = append(body, strings.TrimSpace(line))
		}
	}
	flush()
	return out
}

// explain returns the note for m: the longest key that names m's scenario
// and a prefix of its name, else the scenario's own note.
func explain(notes map[string]string, m *Metric) string {
	best, bestLen := notes[m.Scenario], -1
	for k, v := range notes {
		sc, prefix, ok := strings.Cut(k, ": ")
		if ok && sc == m.Scenario && strings.HasPrefix(m.Name, prefix) && len(prefix) > bestLen {
			best, bestLen = v, len(prefix)
		}
	}
	return best
}

// analysis writes the report's analysis from its own results: which
// targets each adapter met, every miss and failure with its figure, and the
// note on why such a target can miss. Nothing in it is typed by hand.
func analysis(rep *Report, notesMD string) string {
	notes := parseNotes(notesMD)
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("## Analysis")
	p("")
	p("Generated from the tables above. This machine is shared (see the load average in [Run](#run)) and the")
	p("broker shares its cores: absolute figures are noisy; read ratios of the same run.")
	p("")
	type miss struct {
		m    *Metric
		cell []string
	}
	var order []string
	misses := map[string]*miss{}
	for _, ar := range rep.Results {
		met, total := 0, 0
		for _, m := range ar.Metrics {
			ok, judged := m.Met()
			if m.Target == nil {
				continue
			}
			total++
			if judged && ok {
				met++
				continue
			}
			key := m.Scenario + ": " + m.Name
			if misses[key] == nil {
				misses[key] = &miss{m: m}
				order = append(order, key)
			}
			misses[key].cell = append(misses[key].cell, ar.Adapter.Name+" "+figure(m))
		}
		p("- **%s**: %d of %d targets met.", ar.Adapter.Name, met, total)
	}
	p("")
	if len(order) > 0 {
		p("**Misses and failures**, grouped by cause.")
		p("")
		// One explanation per cause, after the misses it explains.
		var causes []string
		byCause := map[string][]string{}
		for _, key := range order {
			ms := misses[key]
			why := ""
			if ms.m.Err == "" {
				why = explain(notes, ms.m)
			}
			if _, seen := byCause[why]; !seen {
				causes = append(causes, why)
			}
			byCause[why] = append(byCause[why], fmt.Sprintf("*%s* (target %s): %s", key, targetText(ms.m), strings.Join(ms.cell, "; ")))
		}
		for _, why := range causes {
			for _, line := range byCause[why] {
				p("- %s", line)
			}
			if why != "" {
				p("")
				p("  %s", why)
			}
			p("")
		}
	}
	for _, ar := range rep.Results {
		if g := growth(ar.Scale); g != "" {
			p("**Catch-up per-record cost, %s.** %s", ar.Adapter.Name, g)
			p("")
		}
	}
	return b.String()
}

func targetText(m *Metric) string {
	t := m.Target.String()
	if m.Target.Kind == AtMost {
		t += " " + m.Unit
	}
	return t
}

// figure is how a metric's result reads against its target.
func figure(m *Metric) string {
	switch {
	case m.Err != "":
		return "FAILED (" + m.Err + ")"
	case m.Target.Kind == AtMost:
		return fmtNum(Summarize(m.KT).Median) + " " + m.Unit
	}
	r := m.Ratio()
	if math.IsNaN(r) {
		return "no figure"
	}
	return fmt.Sprintf("%.2f×", r)
}

// growth compares ns/record at the largest catch-up size with that at 1M
// (target ≤ 1.15×), when both ran.
func growth(scale []ScalePoint) string {
	var at1M, largest *ScalePoint
	for i := range scale {
		s := &scale[i]
		if s.Records == 1_000_000 {
			at1M = s
		}
		if largest == nil || s.Records > largest.Records {
			largest = s
		}
	}
	if at1M == nil || largest == at1M || at1M.KT == 0 || largest.KT == 0 {
		return ""
	}
	kt := at1M.KT / largest.KT // ns/record ratio = inverse rate ratio
	raw := math.NaN()
	if at1M.Raw > 0 && largest.Raw > 0 {
		raw = at1M.Raw / largest.Raw
	}
	verdict := "met"
	if kt > 1.15 {
		verdict = "missed"
	}
	return fmt.Sprintf("ns/record at %s is %.2f× that at 1M (target ≤ 1.15×, %s); the raw loop's is %.2f×.",
		fmtCount(largest.Records), kt, verdict, raw)
}
