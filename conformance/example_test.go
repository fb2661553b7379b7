package conformance_test

import (
	"context"
	"testing"

	"github.com/ktables/ktables/conformance"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// memHarness runs the suite on one in-memory cluster: every case gets a
// client of it, as a process would.
type memHarness struct{ c *memtransport.Cluster }

func (h memHarness) NewTransport(context.Context) (transport.Transport, error) {
	return h.c.Transport(), nil
}

func (h memHarness) Features() conformance.Features {
	return conformance.Features{TopicConfig: true, CreatePartitions: true, SecondProcess: true}
}

// A harness needs two methods; Run does the rest. Optional interfaces
// (Compactor, Transactor, FaultInjector) unlock more cases.
func Example() {
	// In a _test.go file:
	_ = func(t *testing.T) {
		c := memtransport.NewCluster()
		t.Cleanup(func() { c.Close() })
		conformance.Run(t, memHarness{c})
	}
}

// A selection of cases, e.g. only the clauses about barriers.
func ExampleRunCases() {
	_ = func(t *testing.T, h conformance.Harness) {
		var barrier []conformance.Case
		for _, c := range conformance.TableCases() {
			if c.Clause[0] == 'B' {
				barrier = append(barrier, c)
			}
		}
		conformance.RunCases(t, h, barrier)
	}
}
