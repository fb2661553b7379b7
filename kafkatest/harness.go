package kafkatest

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
	"github.com/ktables/ktables/transport"
)

// Harness runs the conformance suite over one adapter against the test
// broker: an in-process kfake cluster (every feature, including broker
// control), or the cluster named by KTABLES_BROKERS (without the cases that
// need broker control: compaction on demand and fault injection). Every
// adapter's conformance test is a few lines:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, kafkatest.NewHarness(t, func(seeds []string) (transport.Transport, error) {
//			return mytransport.New(seeds, ...)
//		}))
//	}
//
// Transactions are written with franz-go whatever the adapter under test, so
// every adapter is checked against the same control records.
type Harness struct {
	seeds []string
	c     *kfake.Cluster // nil for an external cluster
	open  func(seeds []string) (transport.Transport, error)

	// FaultCodes overrides the Kafka error a retriable fault answers with,
	// per operation. The defaults are codes clients surface rather than
	// retry internally for long; an adapter whose client retries one of them
	// forever can choose another.
	FaultCodes map[conformance.FaultOp]*kerr.Error
	// FatalCode is what a fatal fault answers with (default
	// TOPIC_AUTHORIZATION_FAILED).
	FatalCode *kerr.Error
	// Watermarks claims conformance.Features.Watermarks: the adapter fills
	// Batch.HighWatermarks (SPEC T3), and the suite checks it does.
	Watermarks bool

	mu     sync.Mutex
	faults []*kfake.FaultHandle
}

var (
	_ conformance.Harness       = (*Harness)(nil)
	_ conformance.Compactor     = (*Harness)(nil)
	_ conformance.Transactor    = (*Harness)(nil)
	_ conformance.FaultInjector = (*Harness)(nil)
)

// NewHarness returns a Harness whose transports come from open, called with
// the broker's seed addresses: KTABLES_BROKERS if set, else a new kfake
// cluster closed when t finishes.
func NewHarness(t testing.TB, open func(seeds []string) (transport.Transport, error)) *Harness {
	t.Helper()
	if seeds := External(); len(seeds) > 0 {
		return NewExternalHarness(seeds, open)
	}
	c, seeds := startKfake(t, kfake.NumBrokers(1))
	h := NewExternalHarness(seeds, open)
	h.c = c
	return h
}

// NewExternalHarness returns a Harness over an already running cluster at
// seeds, such as a container the integration tests started. Broker control
// (compaction on demand, fault injection) is unavailable there.
func NewExternalHarness(seeds []string, open func(seeds []string) (transport.Transport, error)) *Harness {
	return &Harness{
		seeds: seeds,
		open:  open,
		FaultCodes: map[conformance.FaultOp]*kerr.Error{
			conformance.FaultFetch:      kerr.NotLeaderForPartition,
			conformance.FaultProduce:    kerr.CorruptMessage,
			conformance.FaultEndOffsets: kerr.LeaderNotAvailable,
		},
		FatalCode: kerr.TopicAuthorizationFailed,
	}
}

// Seeds returns the broker addresses.
func (h *Harness) Seeds() []string { return h.seeds }

// Cluster returns the kfake cluster, or nil for an external one.
func (h *Harness) Cluster() *kfake.Cluster { return h.c }

// NewTransport opens a new client of the broker.
func (h *Harness) NewTransport(context.Context) (transport.Transport, error) {
	return h.open(h.seeds)
}

// Features: everything on kfake; no broker control on an external cluster.
func (h *Harness) Features() conformance.Features {
	return conformance.Features{
		TopicConfig:       true,
		CreatePartitions:  true,
		Transactions:      true,
		CompactionControl: h.c != nil,
		FaultInjection:    h.c != nil,
		SecondProcess:     true,
		Watermarks:        h.Watermarks,
	}
}

// Compact compacts every topic of the kfake cluster now.
func (h *Harness) Compact(context.Context, string) error {
	if h.c == nil {
		return fmt.Errorf("kafkatest: no kfake cluster to compact")
	}
	h.c.Compact()
	return nil
}

var txnSeq atomic.Int64

// ProduceTransaction writes recs in one franz-go transaction, committed or
// aborted.
func (h *Harness) ProduceTransaction(ctx context.Context, topic string, recs []transport.Record, commit bool) error {
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

// InjectFault answers the next f.Times requests of f.Op on f.Topic with an
// error code, as a broker would.
func (h *Harness) InjectFault(_ context.Context, f conformance.Fault) error {
	if h.c == nil {
		return fmt.Errorf("kafkatest: no kfake cluster for fault injection")
	}
	var key kmsg.Key
	switch f.Op {
	case conformance.FaultFetch:
		key = kmsg.Fetch
	case conformance.FaultProduce:
		key = kmsg.Produce
	case conformance.FaultEndOffsets:
		key = kmsg.ListOffsets
	default:
		return fmt.Errorf("kafkatest: unknown fault op %v", f.Op)
	}
	code := h.FaultCodes[f.Op]
	if f.Fatal {
		code = h.FatalCode
	}
	n := max(f.Times, 1)
	fh := h.c.Fault(kfake.Fault{Keys: []kmsg.Key{key}, Topic: f.Topic, Err: code, Count: n})
	h.mu.Lock()
	h.faults = append(h.faults, fh)
	h.mu.Unlock()
	return nil
}

// ClearFaults removes every fault not yet consumed.
func (h *Harness) ClearFaults(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, fh := range h.faults {
		fh.Remove()
	}
	h.faults = nil
	return nil
}
