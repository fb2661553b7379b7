package bench

import (
	"context"
	"fmt"
	"time"
)

// Env is what a scenario run gets: its own broker, the adapter, the
// configuration, and a place to put latency distributions for the plots.
type Env struct {
	Ctx     context.Context
	Cfg     *Config
	Adapter Adapter
	Broker  *Broker
	Dists   []Dist
	Scale   []ScalePoint
}

// Dist is a latency distribution (every sample of every repeat).
type Dist struct {
	Scenario string
	KT, Raw  []time.Duration
}

// ScalePoint is one catch-up rate at one size.
type ScalePoint struct {
	Records int
	KT, Raw float64 // median records/s
}

// Scenario is one entry of the suite.
type Scenario struct {
	Name string
	Desc string
	Run  func(e *Env) ([]*Metric, error)
	// OwnBroker: the scenario needs no Kafka broker.
	NoBroker bool
}

// Scenarios is the suite, in report order.
var Scenarios = []Scenario{
	{Name: "propagation", Desc: "write call → value visible in a table on another transport instance", Run: runPropagation},
	{Name: "barrier", Desc: "Barrier latency: idle (default and 50 ms fetch wait) and under continuous writes", Run: runBarrier},
	{Name: "writes", Desc: "acknowledged writes: latency at 1 in flight, throughput at 1/8/64 concurrent writers", Run: runWrites},
	{Name: "catchup", Desc: "Open → caught up, records/s", Run: runCatchup},
	{Name: "memory", Desc: "heap retained per key by a loaded table (bytes codec, 100 B values)", Run: runMemory},
	{Name: "reads", Desc: "in-memory reads, serial and parallel", Run: runReads},
	{Name: "idlecpu", Desc: "CPU of a caught-up idle reader process", Run: runIdleCPU},
}

// ScenarioNames lists the scenario names.
func ScenarioNames() []string {
	var n []string
	for _, s := range Scenarios {
		n = append(n, s.Name)
	}
	return n
}

func scenarioByName(name string) *Scenario {
	for i := range Scenarios {
		if Scenarios[i].Name == name {
			return &Scenarios[i]
		}
	}
	return nil
}

// waitTimeout bounds each wait for an observation inside scenarios.
const waitTimeout = 30 * time.Second

func recvBefore[T any](ctx context.Context, ch <-chan T, what string) (T, error) {
	var zero T
	t := time.NewTimer(waitTimeout)
	defer t.Stop()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return zero, fmt.Errorf("%s: %w", what, ctx.Err())
	case <-t.C:
		return zero, fmt.Errorf("%s: not seen within %v", what, waitTimeout)
	}
}
