package bench

import (
	"maps"
	"runtime"
	"sync"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

func ktablesOpenBytes(e *Env, tr transport.Transport, topic string) (*ktables.Table[[]byte], error) {
	return ktables.Open(e.Ctx, tr, topic, ktables.Bytes(), ktables.WithoutEnsureTopic())
}

func ktablesOpenGroupedBytes(e *Env, tr transport.Transport, topic string) (*ktables.GroupedTable[[]byte], error) {
	return ktables.OpenGrouped(e.Ctx, tr, topic, ktables.Bytes(), ktables.WithoutEnsureTopic())
}

// ReadOp is one read operation on ktables and on the baseline: a plain
// map[string][]byte (nested for groups) behind a sync.RWMutex.
type ReadOp struct {
	Name   string
	Iters  int // per timing run, serial
	KT     func(i int)
	Raw    func(i int)
	Target *Target
}

// RawMap is the read baseline: the simplest correct concurrent map.
type RawMap struct {
	mu     sync.RWMutex
	flat   map[string][]byte
	nested map[string]map[string][]byte
}

// ReadOps builds the read operations over a flat table of n keys (FlatKey)
// and a grouped table (GroupedKey, 100 members per group), with baselines
// holding the same entries.
func ReadOps(flat *ktables.Table[[]byte], grouped *ktables.GroupedTable[[]byte], n int) []ReadOp {
	raw := &RawMap{flat: make(map[string][]byte, flat.Len()), nested: map[string]map[string][]byte{}}
	for k, v := range flat.All() {
		raw.flat[k] = v
	}
	for g, ms := range grouped.Snapshot() {
		raw.nested[g] = ms
	}
	const nk = 4096
	keys := make([]string, nk)
	groups := make([]string, nk)
	for i := range keys {
		keys[i] = string(FlatKey(i * 7919 % n))
		groups[i] = GroupName(i * 7919 % n / 100)
	}
	snapIters := max(2, 2_000_000/n)
	return []ReadOp{
		{Name: "Get", Iters: 2_000_000, Target: &Target{AtMost, 50},
			KT: func(i int) { flat.Get(keys[i%nk]) },
			Raw: func(i int) {
				raw.mu.RLock()
				_ = raw.flat[keys[i%nk]]
				raw.mu.RUnlock()
			}},
		{Name: "Has", Iters: 2_000_000,
			KT: func(i int) { flat.Has(keys[i%nk]) },
			Raw: func(i int) {
				raw.mu.RLock()
				_, ok := raw.flat[keys[i%nk]]
				raw.mu.RUnlock()
				_ = ok
			}},
		{Name: "Members (100-member group, a copy)", Iters: 50_000,
			KT: func(i int) { grouped.Members(groups[i%nk]) },
			Raw: func(i int) {
				raw.mu.RLock()
				m := maps.Clone(raw.nested[groups[i%nk]])
				raw.mu.RUnlock()
				_ = m
			}},
		{Name: "Snapshot (" + fmtCount(n) + " keys)", Iters: snapIters,
			KT: func(int) { flat.Snapshot() },
			Raw: func(int) {
				raw.mu.RLock()
				m := maps.Clone(raw.flat)
				raw.mu.RUnlock()
				_ = m
			}},
	}
}

// TimeSerial returns ns per call of f over iters calls.
func TimeSerial(iters int, f func(i int)) float64 {
	t0 := time.Now()
	for i := range iters {
		f(i)
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(iters)
}

// TimeParallel runs iters calls of f on GOMAXPROCS goroutines and returns
// wall-clock ns per call (throughput across cores).
func TimeParallel(iters int, f func(i int)) float64 {
	procs := runtime.GOMAXPROCS(0)
	per := max(1, iters/procs)
	var wg sync.WaitGroup
	t0 := time.Now()
	for g := range procs {
		wg.Go(func() {
			for i := range per {
				f(g*per + i)
			}
		})
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(per*procs)
}

func runReads(e *Env) ([]*Metric, error) {
	cfg := e.Cfg
	n := cfg.ReadKeys
	ft, err := seededTopic(e, "reads", 1, n, FlatKey)
	if err != nil {
		return nil, err
	}
	gt, err := seededTopic(e, "readsg", 1, n, GroupedKey)
	if err != nil {
		return nil, err
	}
	tr, err := e.Adapter.Transport(e.Broker.Seeds)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	flat, err := ktablesOpenBytes(e, tr, ft)
	if err != nil {
		return nil, err
	}
	defer flat.Close()
	grouped, err := ktablesOpenGroupedBytes(e, tr, gt)
	if err != nil {
		return nil, err
	}
	defer grouped.Close()
	var out []*Metric
	for _, op := range ReadOps(flat, grouped, n) {
		ser := &Metric{Scenario: "reads", Name: op.Name + ", serial", Unit: "ns/op", Target: op.Target}
		par := &Metric{Scenario: "reads", Name: op.Name + ", parallel", Unit: "ns/op",
			Note: "wall time per op over GOMAXPROCS goroutines"}
		TimeSerial(op.Iters/10, op.KT) // warm
		TimeSerial(op.Iters/10, op.Raw)
		for range cfg.Repeats {
			add(ser, false, TimeSerial(op.Iters, op.KT))
			add(ser, true, TimeSerial(op.Iters, op.Raw))
			add(par, false, TimeParallel(op.Iters, op.KT))
			add(par, true, TimeParallel(op.Iters, op.Raw))
		}
		out = append(out, ser, par)
	}
	return out, nil
}
