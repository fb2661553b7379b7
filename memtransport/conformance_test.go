package memtransport_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ktables/ktables/conformance"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// harness runs the conformance suite on one in-memory cluster; each case
// gets its own client of it, as a process would.
type harness struct{ c *memtransport.Cluster }

var (
	_ conformance.Harness       = harness{}
	_ conformance.Compactor     = harness{}
	_ conformance.Transactor    = harness{}
	_ conformance.FaultInjector = harness{}
)

func (h harness) NewTransport(context.Context) (transport.Transport, error) {
	return h.c.Transport(), nil
}

func (h harness) Features() conformance.Features {
	return conformance.Features{
		TopicConfig:       true,
		CreatePartitions:  true,
		Transactions:      true,
		CompactionControl: true,
		FaultInjection:    true,
		SecondProcess:     true,
		Watermarks:        true,
	}
}

func (h harness) Compact(_ context.Context, topic string) error { return h.c.Compact(topic) }

// ProduceTransaction writes what a read-committed consumer sees of a
// transaction: the records (commit) or a hole where they were (abort), then
// a control marker on every partition the transaction touched.
func (h harness) ProduceTransaction(_ context.Context, topic string, recs []transport.Record, commit bool) error {
	count := map[int32]int64{}
	for _, r := range recs {
		count[r.Partition]++
		if commit {
			if _, err := h.c.Append(topic, r); err != nil {
				return err
			}
		}
	}
	for p, n := range count {
		if !commit {
			if err := h.c.SkipOffsets(topic, p, n); err != nil {
				return err
			}
		}
		if _, err := h.c.AppendControl(topic, p); err != nil {
			return err
		}
	}
	return nil
}

func (h harness) InjectFault(_ context.Context, f conformance.Fault) error {
	ops := map[conformance.FaultOp]memtransport.Op{
		conformance.FaultFetch:      memtransport.OpFetch,
		conformance.FaultProduce:    memtransport.OpProduce,
		conformance.FaultEndOffsets: memtransport.OpEndOffsets,
	}
	op, ok := ops[f.Op]
	if !ok {
		return fmt.Errorf("unknown fault op %v", f.Op)
	}
	err := transport.ErrBrokerUnavailable
	if f.Fatal {
		err = transport.ErrAuthorization
	}
	h.c.FailNext(op, f.Times, err)
	return nil
}

func (h harness) ClearFaults(context.Context) error {
	h.c.ClearFaults()
	return nil
}

func TestConformance(t *testing.T) {
	c := memtransport.NewCluster()
	t.Cleanup(func() { c.Close() })
	conformance.Run(t, harness{c})
}
