package bench

import (
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

func ktablesOpenGroupedBytes(e *Env, tr transport.Transport, topic string) (*ktables.GroupedTable[[]byte], error) {
	return ktables.OpenGrouped(e.Ctx, tr, topic, ktables.Bytes(), ktables.WithoutEnsureTopic())
}

// ReadOp is one read operation on ktables and on the baseline: a plain,
// unsynchronized map[string][]byte (nested for groups) holding the same
// entries, the fastest lookup Go offers; maps.Clone for copies.
type ReadOp struct {
	Name   string
	Iters  int // per timing run, serial
	KT     func(i int)
	Raw    func(i int)
	Target *Target
	// Live: the parallel run happens while the table applies updates
	// (the baseline map, unsynchronized, cannot take writes).
	Live bool
}

// ReadOps builds the read operations over a flat table of n keys (FlatKey)
// and a grouped table (GroupedKey, 100 members per group), with baselines
// holding the same entries. Get runs over three key sets: 1,024 hot keys
// (cache-resident), 4,096 spread over the table, and all n.
func ReadOps(flat *ktables.Table[[]byte], grouped *ktables.GroupedTable[[]byte], n int) []ReadOp {
	rawFlat := make(map[string][]byte, flat.Len())
	for k, v := range flat.All() {
		rawFlat[string([]byte(k))] = v
	}
	rawNested := map[string]map[string][]byte{}
	for g, ms := range grouped.Snapshot() {
		rawNested[g] = ms
	}
	keySet := func(nk, stride int) []string {
		keys := make([]string, nk)
		for i := range keys {
			keys[i] = string(FlatKey(i * stride % n))
		}
		return keys
	}
	const spread = 4096
	groups := make([]string, spread)
	for i := range groups {
		groups[i] = GroupName(i * 7919 % n / 100)
	}
	getOp := func(name string, keys []string) ReadOp {
		nk := len(keys)
		return ReadOp{Name: "Get, " + name, Iters: 2_000_000, Target: &Target{RatioAtMost, 1.3}, Live: true,
			KT:  func(i int) { flat.Get(keys[i%nk]) },
			Raw: func(i int) { _ = rawFlat[keys[i%nk]] }}
	}
	all := keySet(n, 7919) // 7919 is prime, n a round number: a permutation
	snapIters := max(2, 2_000_000/n)
	return []ReadOp{
		getOp("1,024 hot keys", keySet(1024, 97)),
		getOp("4,096 keys spread", keySet(spread, 7919)),
		getOp("all "+fmtCount(n)+" keys", all),
		{Name: "Has, 4,096 keys spread", Iters: 2_000_000, Live: true,
			KT: func(i int) { flat.Has(all[i%spread]) },
			Raw: func(i int) {
				_, ok := rawFlat[all[i%spread]]
				_ = ok
			}},
		{Name: "Members (100-member group, a copy)", Iters: 50_000, Target: &Target{RatioAtMost, 1.5},
			KT:  func(i int) { grouped.Members(groups[i%spread]) },
			Raw: func(i int) { _ = maps.Clone(rawNested[groups[i%spread]]) }},
		{Name: "Snapshot (" + fmtCount(n) + " keys)", Iters: snapIters, Target: &Target{RatioAtMost, 2},
			KT:  func(int) { flat.Snapshot() },
			Raw: func(int) { _ = maps.Clone(rawFlat) }},
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

// TimeParallel runs iters calls of f on procs goroutines and returns
// wall-clock ns per call (throughput across them).
func TimeParallel(procs, iters int, f func(i int)) float64 {
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

// liveRate is the update rate the table applies during parallel reads.
const liveRate = 100_000

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
	var applied atomic.Int64
	flat, err := ktables.Open(e.Ctx, tr, ft, ktables.Bytes(), ktables.WithoutEnsureTopic(),
		ktables.OnSet(func(string, []byte) { applied.Add(1) }))
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
		par := &Metric{Scenario: "reads", Name: op.Name + ", 2 goroutines", Unit: "ns/op", Target: op.Target,
			Note: "wall time per op"}
		TimeSerial(op.Iters/10, op.KT) // warm
		TimeSerial(op.Iters/10, op.Raw)
		var rates []float64
		for range cfg.Repeats {
			add(ser, false, TimeSerial(op.Iters, op.KT))
			add(ser, true, TimeSerial(op.Iters, op.Raw))
			if op.Live {
				// The baseline reads under the same update stream: the
				// broker, the producer and the table's reader take the same
				// CPU from both sides, so the ratio is the read path's.
				stop := e.updates(ft, n, &applied)
				add(par, false, TimeParallel(2, op.Iters, op.KT))
				rates = append(rates, stop())
				stop = e.updates(ft, n, &applied)
				add(par, true, TimeParallel(2, op.Iters, op.Raw))
				stop()
			} else {
				add(par, false, TimeParallel(2, op.Iters, op.KT))
				add(par, true, TimeParallel(2, op.Iters, op.Raw))
			}
		}
		if op.Live {
			par.Note = fmt.Sprintf("wall time per op; the table applying %s updates/s, median, during both runs (the map itself read-only)",
				fmtNum(Summarize(rates).Median))
		}
		out = append(out, ser, par)
	}
	return out, nil
}

// updates produces about liveRate updates per second to topic's n keys
// (batched, 1 ms apart) until the returned stop, which reports the rate the
// table applied.
func (e *Env) updates(topic string, n int, applied *atomic.Int64) (stop func() float64) {
	done := make(chan struct{})
	finished := make(chan struct{})
	start, t0 := applied.Load(), time.Now()
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		val := Value(0)
		next := 0
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			due := int(time.Since(t0).Seconds()*liveRate) - next
			for range due {
				k := FlatKey(next * 7919 % n)
				e.Broker.cl.Produce(e.Ctx, &kgo.Record{Topic: topic, Key: k, Value: val}, nil)
				next++
			}
		}
	}()
	return func() float64 {
		close(done)
		<-finished
		return float64(applied.Load()-start) / time.Since(t0).Seconds()
	}
}
