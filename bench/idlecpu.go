package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ktables/ktables"
)

// ChildEnv carries an idle-reader job to a child process: the idle CPU
// scenario runs each reader in a process of its own, so that the broker
// (kfake, in a process of its own) and the harness are not counted.
const ChildEnv = "KTABLES_BENCH_CHILD"

type childJob struct {
	Raw     bool
	Adapter string
	Seeds   []string
	Topic   string
	Window  time.Duration
}

type childResult struct {
	CPU  time.Duration // user + system over the window
	Wall time.Duration
	Err  string
}

// RunChildIfRequested runs the broker (BrokerEnv set) or an idle-reader job
// (ChildEnv set) and exits when this process was started as one; otherwise
// it returns at once. Call it first thing in main and TestMain.
func RunChildIfRequested() {
	if os.Getenv(BrokerEnv) != "" {
		runBrokerChild()
	}
	spec := os.Getenv(ChildEnv)
	if spec == "" {
		return
	}
	var job childJob
	res := childResult{}
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		res.Err = err.Error()
	} else if err := runChild(job, &res); err != nil {
		res.Err = err.Error()
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	os.Exit(0)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func runChild(job childJob, res *childResult) error {
	as, err := ParseAdapters(job.Adapter)
	if err != nil {
		return err
	}
	a := as[0]
	ctx, cancel := context.WithTimeout(context.Background(), job.Window+2*time.Minute)
	defer cancel()
	if job.Raw {
		r, err := a.Raw(job.Seeds)
		if err != nil {
			return err
		}
		defer r.Close()
		_, m, err := rawLoad(ctx, r, job.Topic, 1, "bytes", false)
		if err != nil {
			return err
		}
		fol, err := startFollower(ctx, r, job.Topic, []int32{0}, func(rec Rec) {
			v := rec.Value
			if !rec.Owned {
				v = bytes.Clone(v)
			}
			m.(map[string][]byte)[string(rec.Key)] = v
		})
		if err != nil {
			return err
		}
		defer fol.stop()
	} else {
		tr, err := a.Transport(job.Seeds)
		if err != nil {
			return err
		}
		defer tr.Close()
		t, err := ktables.Open(ctx, tr, job.Topic, ktables.Bytes(), ktables.WithoutEnsureTopic())
		if err != nil {
			return err
		}
		defer t.Close()
	}
	// Let start-up work (connections, the first GC cycles) finish.
	time.Sleep(time.Second)
	c0, t0 := cpuTime(), time.Now()
	time.Sleep(job.Window)
	res.CPU, res.Wall = cpuTime()-c0, time.Since(t0)
	return nil
}

func runChildProcess(ctx context.Context, job childJob) (childResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return childResult{}, err
	}
	spec, _ := json.Marshal(job)
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), ChildEnv+"="+string(spec))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return childResult{}, fmt.Errorf("idle reader process: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res childResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		return res, fmt.Errorf("idle reader process output %q: %v", stdout.String(), err)
	}
	if res.Err != "" {
		return res, fmt.Errorf("idle reader process: %s", res.Err)
	}
	return res, nil
}

// runIdleCPU starts, per repeat, one ktables reader and one raw reader,
// each in a process of its own, all at once on the same broker; each
// reports its own CPU time (getrusage) over the window after catching up
// with 1000 records and settling for a second.
func runIdleCPU(e *Env) ([]*Metric, error) {
	ctx, cfg := e.Ctx, e.Cfg
	topic, err := seededTopic(e, "idle", 1, 1000, FlatKey)
	if err != nil {
		return nil, err
	}
	m := &Metric{Scenario: "idlecpu", Name: fmt.Sprintf("idle reader, %v window", cfg.IdleWindow), Unit: "% of a core",
		Target: &Target{AtMost, 0.1}, Note: "each reader in its own process; broker not counted"}
	type result struct {
		raw bool
		pct float64
		err error
	}
	results := make(chan result, 2*cfg.Repeats)
	var wg sync.WaitGroup
	for range cfg.Repeats {
		for _, raw := range []bool{false, true} {
			wg.Go(func() {
				res, err := runChildProcess(ctx, childJob{Raw: raw, Adapter: e.Adapter.Name, Seeds: e.Broker.Seeds,
					Topic: topic, Window: cfg.IdleWindow})
				results <- result{raw, 100 * res.CPU.Seconds() / res.Wall.Seconds(), err}
			})
		}
	}
	wg.Wait()
	close(results)
	for r := range results {
		if r.err != nil {
			return nil, r.err
		}
		add(m, r.raw, r.pct)
	}
	return []*Metric{m}, nil
}
