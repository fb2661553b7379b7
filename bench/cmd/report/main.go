// Command report runs the ktables benchmark suite against raw-client
// baselines and writes docs/PERFORMANCE.md with SVG plots.
//
//	go run ./bench/cmd/report                 # full run (~15 min on 2 cores)
//	go run ./bench/cmd/report -quick -out /tmp/perf.md -svg-dir /tmp/perf
//	go run ./bench/cmd/report -adapters franz -brokers localhost:9092
//
// With neither -brokers nor KTABLES_BROKERS, each scenario runs on a fresh
// kfake cluster in a child process.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/ktables/ktables/bench"
)

func main() {
	bench.RunChildIfRequested()
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// Options are the parsed flags.
type Options struct {
	Cfg    bench.Config
	Out    string
	SVGDir string
	From   string
}

// ParseFlags parses and validates the command line.
func ParseFlags(args []string, stderr io.Writer) (*Options, error) {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "small smoke run (under two minutes)")
	out := fs.String("out", "docs/PERFORMANCE.md", "markdown file to write")
	repeats := fs.Int("repeats", 0, "repeats per measurement (default 3, quick 1)")
	adapters := fs.String("adapters", strings.Join(bench.AdapterNames(), ","), "comma-separated adapters")
	brokers := fs.String("brokers", os.Getenv("KTABLES_BROKERS"), "comma-separated seed brokers of an external cluster (default KTABLES_BROKERS; empty: kfake in a child process)")
	svgDir := fs.String("svg-dir", "docs/perf", "folder for the SVG plots")
	from := fs.String("from", "", "re-render from a saved results.json instead of running")
	scenarios := fs.String("scenarios", "", "comma-separated scenarios to run (default all: "+strings.Join(bench.ScenarioNames(), ",")+")")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	cfg := bench.DefaultConfig(*quick)
	repeatsSet := false
	fs.Visit(func(f *flag.Flag) { repeatsSet = repeatsSet || f.Name == "repeats" })
	if repeatsSet {
		if *repeats <= 0 {
			return nil, fmt.Errorf("-repeats must be positive, got %d", *repeats)
		}
		cfg.Repeats = *repeats
	}
	as, err := bench.ParseAdapters(*adapters)
	if err != nil {
		return nil, fmt.Errorf("-adapters: %w", err)
	}
	cfg.Adapters = as
	for _, s := range strings.Split(*brokers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Brokers = append(cfg.Brokers, s)
		}
	}
	for _, s := range strings.Split(*scenarios, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Scenarios = append(cfg.Scenarios, s)
		}
	}
	if *out == "" {
		return nil, fmt.Errorf("-out must name a file")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Options{Cfg: cfg, Out: *out, SVGDir: *svgDir, From: *from}, nil
}

func run(args []string, stderr io.Writer) error {
	opts, err := ParseFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var rep *bench.Report
	if opts.From != "" {
		if rep, err = bench.LoadReport(opts.From); err != nil {
			return err
		}
	} else {
		cfg := opts.Cfg
		cfg.Log = stderr
		if rep, err = bench.Run(ctx, &cfg); err != nil {
			return err
		}
		rep.Command = strings.TrimSpace("go run ./bench/cmd/report " + strings.Join(args, " "))
		if err := os.MkdirAll(opts.SVGDir, 0o755); err != nil {
			return err
		}
		if err := rep.SaveJSON(filepath.Join(opts.SVGDir, "results.json")); err != nil {
			return err
		}
	}
	plots, scale, err := bench.WritePlots(rep, opts.SVGDir)
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	rel, err := filepath.Rel(filepath.Dir(absPath(opts.Out)), absPath(opts.SVGDir))
	if err != nil {
		rel = opts.SVGDir
	}
	f, err := os.Create(opts.Out)
	if err != nil {
		return err
	}
	if err := bench.WriteMarkdown(f, rep, rel, plots, scale); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s and plots in %s (%v)\n", opts.Out, opts.SVGDir, rep.Duration.Round(1e9))
	return nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
