package franztransport

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables/conformance"
	"github.com/ktables/ktables/internal/brokertest"
	"github.com/ktables/ktables/transport"
)

// harness runs the conformance suite over the franz-go adapter against a
// kfake cluster, or against KTABLES_BROKERS (then without the cases that need
// broker control).
type harness struct {
	seeds []string
	c     *kfake.Cluster // nil for an external cluster

	mu     sync.Mutex
	faults []*kfake.FaultHandle
}

var (
	_ conformance.Harness       = (*harness)(nil)
	_ conformance.Compactor     = (*harness)(nil)
	_ conformance.Transactor    = (*harness)(nil)
	_ conformance.FaultInjector = (*harness)(nil)
)

func newHarness(t *testing.T) *harness {
	if seeds := brokertest.External(); len(seeds) > 0 {
		return &harness{seeds: seeds}
	}
	c, seeds := brokertest.StartCluster(t)
	return &harness{seeds: seeds, c: c}
}

// NewTransport reads committed records only: the suite's transaction cases
// require that aborted records are never delivered.
func (h *harness) NewTransport(context.Context) (transport.Transport, error) {
	return New(h.seeds, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
}

func (h *harness) Features() conformance.Features {
	return conformance.Features{
		TopicConfig:       true,
		CreatePartitions:  true,
		Transactions:      true,
		CompactionControl: h.c != nil,
		FaultInjection:    h.c != nil,
		SecondProcess:     true,
	}
}

func (h *harness) Compact(context.Context, string) error {
	if h.c == nil {
		return fmt.Errorf("no kfake cluster to compact")
	}
	h.c.Compact()
	return nil
}

var txnSeq atomic.Int64

func (h *harness) ProduceTransaction(ctx context.Context, topic string, recs []transport.Record, commit bool) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.seeds...),
		kgo.TransactionalID(fmt.Sprintf("ktables-conformance-%d", txnSeq.Add(1))),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.BeginTransaction(); err != nil {
		return err
	}
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		krs[i] = &kgo.Record{Topic: topic, Partition: r.Partition, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp}
	}
	if err := cl.ProduceSync(ctx, krs...).FirstErr(); err != nil {
		_ = cl.EndTransaction(ctx, kgo.TryAbort)
		return err
	}
	return cl.EndTransaction(ctx, kgo.TransactionEndTry(commit))
}

// InjectFault answers requests the way a broker would. The retriable codes
// are ones kgo reports instead of retrying internally (kgo retries most
// retriable produce and list-offsets errors on its own, which is fine in
// production but would hide the fault from the suite): CORRUPT_MESSAGE for
// produce, LEADER_NOT_AVAILABLE for list offsets, NOT_LEADER_FOR_PARTITION
// for fetch (fetch sessions keep retriable errors).
func (h *harness) InjectFault(_ context.Context, f conformance.Fault) error {
	if h.c == nil {
		return fmt.Errorf("no kfake cluster for fault injection")
	}
	var key kmsg.Key
	var code *kerr.Error
	switch f.Op {
	case conformance.FaultFetch:
		key, code = kmsg.Fetch, kerr.NotLeaderForPartition
	case conformance.FaultProduce:
		key, code = kmsg.Produce, kerr.CorruptMessage
	case conformance.FaultEndOffsets:
		key, code = kmsg.ListOffsets, kerr.LeaderNotAvailable
	default:
		return fmt.Errorf("unknown fault op %v", f.Op)
	}
	if f.Fatal {
		code = kerr.TopicAuthorizationFailed
	}
	n := f.Times
	if n <= 0 {
		n = 1
	}
	fh := h.c.Fault(kfake.Fault{Keys: []kmsg.Key{key}, Topic: f.Topic, Err: code, Count: n})
	h.mu.Lock()
	h.faults = append(h.faults, fh)
	h.mu.Unlock()
	return nil
}

func (h *harness) ClearFaults(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, fh := range h.faults {
		fh.Remove()
	}
	h.faults = nil
	return nil
}

func TestConformance(t *testing.T) {
	conformance.Run(t, newHarness(t))
}
