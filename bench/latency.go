package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

// openPair opens two transports of the adapter: one writes, one reads, as
// two processes would.
func openPair(e *Env) (w, r transport.Transport, err error) {
	if w, err = e.Adapter.Transport(e.Broker.Seeds); err != nil {
		return nil, nil, err
	}
	if r, err = e.Adapter.Transport(e.Broker.Seeds); err != nil {
		w.Close()
		return nil, nil, err
	}
	return w, r, nil
}

func openRawPair(e *Env) (w, r Raw, err error) {
	if w, err = e.Adapter.Raw(e.Broker.Seeds); err != nil {
		return nil, nil, err
	}
	if r, err = e.Adapter.Raw(e.Broker.Seeds); err != nil {
		w.Close()
		return nil, nil, err
	}
	return w, r, nil
}

// rawFollower is the raw baseline of a live table: a consumer of its own
// client from the current end, keeping positions and calling onRec.
type rawFollower struct {
	mu      sync.Mutex
	pos     map[int32]int64
	changed chan struct{} // closed and replaced on every advance
	done    chan error
	cancel  context.CancelFunc
}

func startFollower(ctx context.Context, r Raw, topic string, parts []int32, onRec func(Rec)) (*rawFollower, error) {
	end, err := r.EndOffsets(ctx, topic, parts)
	if err != nil {
		return nil, err
	}
	f := &rawFollower{pos: map[int32]int64{}, changed: make(chan struct{}), done: make(chan error, 1)}
	for p, o := range end {
		f.pos[p] = o
	}
	cctx, cancel := context.WithCancel(ctx)
	f.cancel = cancel
	go func() {
		f.done <- r.Consume(cctx, topic, end, func(rec Rec) bool {
			if onRec != nil {
				onRec(rec)
			}
			f.mu.Lock()
			f.pos[rec.Partition] = rec.Offset + 1
			close(f.changed)
			f.changed = make(chan struct{})
			f.mu.Unlock()
			return true
		})
	}()
	return f, nil
}

func (f *rawFollower) stop() { f.cancel(); <-f.done }

// barrier is the raw read-your-writes: list end offsets, wait until the
// consumer's positions cover them.
func (f *rawFollower) barrier(ctx context.Context, r Raw, topic string, parts []int32) error {
	end, err := r.EndOffsets(ctx, topic, parts)
	if err != nil {
		return err
	}
	for {
		f.mu.Lock()
		ok := true
		for p, o := range end {
			if f.pos[p] < o {
				ok = false
			}
		}
		ch := f.changed
		f.mu.Unlock()
		if ok {
			return nil
		}
		if _, err := recvBefore(ctx, ch, "raw barrier"); err != nil {
			return err
		}
	}
}

func runPropagation(e *Env) ([]*Metric, error) {
	ctx, cfg := e.Ctx, e.Cfg
	topic, err := e.Broker.NewTopic(ctx, "prop", 1)
	if err != nil {
		return nil, err
	}
	wt, rt, err := openPair(e)
	if err != nil {
		return nil, err
	}
	defer wt.Close()
	defer rt.Close()
	w, err := ktables.OpenWriter(ctx, wt, topic, ktables.Bytes(), ktables.WithoutEnsureTopic())
	if err != nil {
		return nil, err
	}
	defer w.Close()
	seen := make(chan time.Time, 1)
	note := func() {
		select {
		case seen <- time.Now():
		default:
		}
	}
	tbl, err := ktables.Open(ctx, rt, topic, ktables.Bytes(), ktables.WithoutEnsureTopic(),
		ktables.OnSet(func(string, []byte) { note() }))
	if err != nil {
		return nil, err
	}
	defer tbl.Close()

	rw, rr, err := openRawPair(e)
	if err != nil {
		return nil, err
	}
	defer rw.Close()
	defer rr.Close()
	rawTopic, err := e.Broker.NewTopic(ctx, "propraw", 1)
	if err != nil {
		return nil, err
	}
	rawSeen := make(chan time.Time, 1)
	fol, err := startFollower(ctx, rr, rawTopic, []int32{0}, func(Rec) {
		select {
		case rawSeen <- time.Now():
		default:
		}
	})
	if err != nil {
		return nil, err
	}
	defer fol.stop()

	val := Value(0)
	one := func(raw bool, i int) (time.Duration, error) {
		t0 := time.Now()
		if raw {
			if err := rw.Produce(ctx, rawTopic, 0, FlatKey(i), val); err != nil {
				return 0, err
			}
			t1, err := recvBefore(ctx, rawSeen, "raw propagation")
			return t1.Sub(t0), err
		}
		if err := w.Set(ctx, FlatKeyString(i), val); err != nil {
			return 0, err
		}
		t1, err := recvBefore(ctx, seen, "ktables propagation")
		return t1.Sub(t0), err
	}
	// Warm both paths (connections, metadata) before measuring.
	for i := range 5 {
		for _, raw := range []bool{false, true} {
			if _, err := one(raw, i); err != nil {
				return nil, err
			}
		}
	}
	p50 := &Metric{Scenario: "propagation", Name: "p50", Unit: "ms", Target: &Target{RatioAtMost, 1.05}}
	p99 := &Metric{Scenario: "propagation", Name: "p99", Unit: "ms", Target: &Target{RatioAtMost, 1.05}}
	var all Dist
	all.Scenario = "propagation"
	for rep := range cfg.Repeats {
		// The sides take turns write by write, so that both sample the
		// same moments of a shared, noisy machine.
		var kt, rw []time.Duration
		for i := range cfg.PropagationN {
			for _, raw := range sidesInTurn(rep + i) {
				d, err := one(raw, i)
				if err != nil {
					return nil, err
				}
				if raw {
					rw = append(rw, d)
				} else {
					kt = append(kt, d)
				}
			}
		}
		p50.Raw = append(p50.Raw, ms(Percentile(rw, 50)))
		p99.Raw = append(p99.Raw, ms(Percentile(rw, 99)))
		all.Raw = append(all.Raw, rw...)
		p50.KT = append(p50.KT, ms(Percentile(kt, 50)))
		p99.KT = append(p99.KT, ms(Percentile(kt, 99)))
		all.KT = append(all.KT, kt...)
	}
	e.Dists = append(e.Dists, all)
	return []*Metric{p50, p99}, nil
}

func runBarrier(e *Env) ([]*Metric, error) {
	ctx, cfg := e.Ctx, e.Cfg
	topic, err := e.Broker.NewTopic(ctx, "barrier", 1)
	if err != nil {
		return nil, err
	}
	if err := e.Broker.Seed(ctx, topic, 1, 1000, FlatKey, Value); err != nil {
		return nil, err
	}
	wt, rt, err := openPair(e)
	if err != nil {
		return nil, err
	}
	defer wt.Close()
	defer rt.Close()
	w, err := ktables.OpenWriter(ctx, wt, topic, ktables.Bytes(), ktables.WithoutEnsureTopic())
	if err != nil {
		return nil, err
	}
	defer w.Close()
	def, err := ktables.Open(ctx, rt, topic, ktables.Bytes(), ktables.WithoutEnsureTopic())
	if err != nil {
		return nil, err
	}
	defer def.Close()
	tuned, err := ktables.Open(ctx, rt, topic, ktables.Bytes(), ktables.WithoutEnsureTopic(),
		ktables.WithFetchMaxWait(50*time.Millisecond))
	if err != nil {
		return nil, err
	}
	defer tuned.Close()

	rw, rr, err := openRawPair(e)
	if err != nil {
		return nil, err
	}
	defer rw.Close()
	defer rr.Close()
	fol, err := startFollower(ctx, rr, topic, []int32{0}, nil)
	if err != nil {
		return nil, err
	}
	defer fol.stop()

	// sample measures n barriers, spaced by a random pause below 10 ms so
	// that they land at every phase of the reader's long poll.
	sample := func(n int, barrier func() error) ([]time.Duration, error) {
		var ds []time.Duration
		for range n {
			time.Sleep(time.Duration(rand.Int64N(int64(10 * time.Millisecond))))
			t0 := time.Now()
			if err := barrier(); err != nil {
				return nil, err
			}
			ds = append(ds, time.Since(t0))
		}
		return ds, nil
	}
	rawBarrier := func() error { return fol.barrier(ctx, rr, topic, []int32{0}) }
	type mode struct {
		name   string
		kt     func() error
		writes bool
		target *Target
	}
	modes := []mode{
		{"idle, default fetch wait", func() error { return def.Barrier(ctx) }, false, &Target{AtMost, 2}},
		{"idle, WithFetchMaxWait(50ms)", func() error { return tuned.Barrier(ctx) }, false, nil},
		{"under continuous writes, default", func() error { return def.Barrier(ctx) }, true, nil},
	}
	var out []*Metric
	for _, m := range modes {
		p50 := &Metric{Scenario: "barrier", Name: m.name + " p50", Unit: "ms", Target: m.target}
		p99 := &Metric{Scenario: "barrier", Name: m.name + " p99", Unit: "ms"}
		var all Dist
		all.Scenario = "barrier: " + m.name
		var stopWrites func() error
		if m.writes {
			stopWrites = writeLoop(ctx, w)
		}
		for rep := range cfg.Repeats {
			for _, raw := range sidesInTurn(rep) {
				f := m.kt
				if raw {
					f = rawBarrier
				}
				ds, err := sample(cfg.BarrierN, f)
				if err != nil {
					if stopWrites != nil {
						stopWrites()
					}
					return out, err
				}
				if raw {
					p50.Raw = append(p50.Raw, ms(Percentile(ds, 50)))
					p99.Raw = append(p99.Raw, ms(Percentile(ds, 99)))
					all.Raw = append(all.Raw, ds...)
				} else {
					p50.KT = append(p50.KT, ms(Percentile(ds, 50)))
					p99.KT = append(p99.KT, ms(Percentile(ds, 99)))
					all.KT = append(all.KT, ds...)
				}
			}
		}
		if stopWrites != nil {
			if err := stopWrites(); err != nil {
				return out, err
			}
		}
		e.Dists = append(e.Dists, all)
		out = append(out, p50, p99)
	}
	return out, nil
}

// writeLoop keeps one write in flight until the returned stop is called.
func writeLoop(ctx context.Context, w *ktables.Writer[[]byte]) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		val := Value(0)
		for i := 0; ; i++ {
			if err := w.Set(ctx, string(FlatKey(i%1000)), val); err != nil {
				if ctx.Err() != nil {
					err = nil
				}
				done <- err
				return
			}
		}
	}()
	return func() error { cancel(); return <-done }
}

func runWrites(e *Env) ([]*Metric, error) {
	ctx, cfg := e.Ctx, e.Cfg
	topic, err := e.Broker.NewTopic(ctx, "writes", 1)
	if err != nil {
		return nil, err
	}
	tr, err := e.Adapter.Transport(e.Broker.Seeds)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	w, err := ktables.OpenWriter(ctx, tr, topic, ktables.Bytes(), ktables.WithoutEnsureTopic())
	if err != nil {
		return nil, err
	}
	defer w.Close()
	raw, err := e.Adapter.Raw(e.Broker.Seeds)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	val := Value(0)
	write := func(isRaw bool, i int) error {
		if isRaw {
			return raw.Produce(ctx, topic, 0, FlatKey(i%10_000), val) // 1 partition: murmur2 says 0
		}
		return w.Set(ctx, FlatKeyString(i%10_000), val)
	}
	for i := range 10 { // warm up
		if err := write(false, i); err != nil {
			return nil, err
		}
		if err := write(true, i); err != nil {
			return nil, err
		}
	}
	p50 := &Metric{Scenario: "writes", Name: "latency p50, 1 in flight", Unit: "ms"}
	p99 := &Metric{Scenario: "writes", Name: "latency p99, 1 in flight", Unit: "ms"}
	thr := map[int]*Metric{}
	out := []*Metric{p50, p99}
	for _, c := range cfg.Writers {
		m := &Metric{Scenario: "writes", Name: fmt.Sprintf("throughput, %d writers", c), Unit: "writes/s"}
		if c == 1 || c == 64 {
			m.Target = &Target{RatioAtLeast, 0.95}
		}
		thr[c] = m
		out = append(out, m)
	}
	tune := func(isRaw bool, writers int) error {
		if t, ok := raw.(writersTuner); ok && isRaw {
			return t.tuneWriters(writers)
		}
		return nil
	}
	for rep := range cfg.Repeats {
		for _, isRaw := range sidesInTurn(rep) {
			if err := tune(isRaw, 1); err != nil {
				return nil, err
			}
			var ds []time.Duration
			for i := range cfg.WriteLatN {
				t0 := time.Now()
				if err := write(isRaw, i); err != nil {
					return nil, err
				}
				ds = append(ds, time.Since(t0))
			}
			add(p50, isRaw, ms(Percentile(ds, 50)))
			add(p99, isRaw, ms(Percentile(ds, 99)))
			for _, c := range cfg.Writers {
				if err := tune(isRaw, c); err != nil {
					return nil, err
				}
				rate, err := throughput(c, cfg.WriteDur, func(i int) error { return write(isRaw, i) })
				if err != nil {
					return nil, err
				}
				add(thr[c], isRaw, rate)
			}
		}
	}
	return out, nil
}

func add(m *Metric, raw bool, v float64) {
	if raw {
		m.Raw = append(m.Raw, v)
	} else {
		m.KT = append(m.KT, v)
	}
}

// throughput runs c goroutines calling write back to back for d and
// returns acknowledged writes per second.
func throughput(c int, d time.Duration, write func(i int) error) (float64, error) {
	var (
		n        atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	t0 := time.Now()
	for g := range c {
		wg.Go(func() {
			for i := g; !stop.Load(); i += c {
				if err := write(i); err != nil {
					errOnce.Do(func() { firstErr = err })
					stop.Store(true)
					return
				}
				n.Add(1)
			}
		})
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	return float64(n.Load()) / time.Since(t0).Seconds(), firstErr
}
