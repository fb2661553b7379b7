package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Report is the outcome of a run.
type Report struct {
	Cfg      *Config
	Command  string
	Machine  Machine
	Broker   string
	Started  time.Time
	Duration time.Duration
	Results  []AdapterResult
}

// AdapterResult holds one adapter's figures.
type AdapterResult struct {
	Adapter Adapter
	Metrics []*Metric
	Dists   []Dist
	Scale   []ScalePoint
}

// Machine describes where the run happened.
type Machine struct {
	CPU       string
	Cores     int
	GoVersion string
	OS        string
	LoadStart string
	LoadEnd   string
}

// Run runs the selected scenarios for every selected adapter, each scenario
// run on a broker of its own (a fresh kfake cluster, or the external one).
// A scenario that fails yields a FAILED row; only an unreachable external
// broker fails the run as a whole.
func Run(ctx context.Context, cfg *Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{Cfg: cfg, Started: time.Now(), Machine: ReadMachine()}
	if len(cfg.Brokers) > 0 {
		if err := CheckReachable(ctx, cfg.Brokers, cfg.ConnectTimeout); err != nil {
			return nil, err
		}
	}
	for _, a := range cfg.Adapters {
		ar := AdapterResult{Adapter: a}
		for _, s := range Scenarios {
			if len(cfg.Scenarios) > 0 && !contains(cfg.Scenarios, s.Name) {
				continue
			}
			t0 := time.Now()
			cfg.logf("%s / %s ...", a.Name, s.Name)
			ms, dists, scale, err := runOne(ctx, cfg, a, s, rep)
			if err != nil && len(cfg.Brokers) > 0 && errors.Is(err, errUnreachable) {
				return nil, err
			}
			ar.Metrics = append(ar.Metrics, ms...)
			ar.Dists = append(ar.Dists, dists...)
			ar.Scale = append(ar.Scale, scale...)
			if err != nil {
				ar.Metrics = append(ar.Metrics, &Metric{Scenario: s.Name, Name: "scenario", Err: err.Error()})
				cfg.logf("%s / %s FAILED: %v", a.Name, s.Name, err)
			}
			cfg.logf("%s / %s done in %v", a.Name, s.Name, time.Since(t0).Round(time.Millisecond))
		}
		rep.Results = append(rep.Results, ar)
	}
	rep.Duration = time.Since(rep.Started)
	rep.Machine.LoadEnd = loadAvg()
	return rep, nil
}

var errUnreachable = errors.New("broker unreachable")

func runOne(ctx context.Context, cfg *Config, a Adapter, s Scenario, rep *Report) (ms []*Metric, d []Dist, sc []ScalePoint, err error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.ScenarioTimeout)
	defer cancel()
	b, err := StartBroker(ctx, cfg.Brokers, cfg.ConnectTimeout)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %v", errUnreachable, err)
	}
	defer b.Close()
	if rep.Broker == "" {
		rep.Broker = b.Kind()
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	e := &Env{Ctx: ctx, Cfg: cfg, Adapter: a, Broker: b}
	ms, err = s.Run(e)
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("scenario timeout %v: %w", cfg.ScenarioTimeout, ctx.Err())
	}
	return ms, e.Dists, e.Scale, err
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// ReadMachine reads the CPU model, cores, Go version, OS and load average.
func ReadMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		CPU: "unknown", LoadStart: loadAvg()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OS += ", Linux " + strings.TrimSpace(string(b))
	}
	return m
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	for _, x := range f[:3] {
		if _, err := strconv.ParseFloat(x, 64); err != nil {
			return "unknown"
		}
	}
	return strings.Join(f[:3], " ")
}

// SaveJSON writes the report's data (so the markdown can be re-rendered
// with new notes without re-running).
func (r *Report) SaveJSON(path string) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// LoadReport reads a report saved by SaveJSON.
func LoadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Cfg == nil {
		return nil, fmt.Errorf("%s: not a saved report", path)
	}
	return &r, nil
}
