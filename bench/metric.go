package bench

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// TargetKind says how a metric is judged.
type TargetKind int

const (
	// RatioAtMost: median(ktables)/median(raw) ≤ Value.
	RatioAtMost TargetKind = iota + 1
	// RatioAtLeast: median(ktables)/median(raw) ≥ Value.
	RatioAtLeast
	// AtMost: median(ktables) ≤ Value, in the metric's unit.
	AtMost
)

// Target is a goal from docs/PERFORMANCE.md.
type Target struct {
	Kind  TargetKind
	Value float64
}

func (t Target) String() string {
	switch t.Kind {
	case RatioAtMost:
		return fmt.Sprintf("≤ %.3g× raw", t.Value)
	case RatioAtLeast:
		return fmt.Sprintf("≥ %.3g× raw", t.Value)
	case AtMost:
		return fmt.Sprintf("≤ %s", fmtNum(t.Value))
	}
	return ""
}

// Metric is one figure of one scenario for one adapter: a value per repeat
// for ktables and, when there is a baseline, for the raw client.
type Metric struct {
	Scenario string
	Name     string
	Unit     string
	KT, Raw  []float64
	Target   *Target
	Note     string
	Err      string // the scenario failed: reported as FAILED, never a number
}

// Summary is min, median and max.
type Summary struct{ Min, Median, Max float64 }

// Summarize returns min/median/max of xs (NaN when empty).
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{math.NaN(), math.NaN(), math.NaN()}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Summary{s[0], med, s[len(s)-1]}
}

// Ratio is median(ktables)/median(raw), NaN without a baseline.
func (m *Metric) Ratio() float64 {
	if len(m.Raw) == 0 || len(m.KT) == 0 {
		return math.NaN()
	}
	r := Summarize(m.Raw).Median
	if r == 0 {
		return math.NaN()
	}
	return Summarize(m.KT).Median / r
}

// Met reports whether the target is met; ok is false without a target or a
// value.
func (m *Metric) Met() (met, ok bool) {
	if m.Target == nil || m.Err != "" || len(m.KT) == 0 {
		return false, false
	}
	switch m.Target.Kind {
	case RatioAtMost, RatioAtLeast:
		r := m.Ratio()
		if math.IsNaN(r) {
			return false, false
		}
		if m.Target.Kind == RatioAtMost {
			return r <= m.Target.Value, true
		}
		return r >= m.Target.Value, true
	case AtMost:
		return Summarize(m.KT).Median <= m.Target.Value, true
	}
	return false, false
}

// Percentile returns the p-th percentile (0..100) of ds, nearest rank.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fmtNum formats a figure with about three significant digits.
func fmtNum(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "—"
	case a >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// sidesInTurn is the order the two sides run in on repeat rep (false: the
// table, true: the raw client): they take turns going first, so that
// neither always runs right after the other (a broker warmed or loaded by
// it, a collector still sweeping its heap).
func sidesInTurn(rep int) []bool { return []bool{rep%2 == 1, rep%2 == 0} }
