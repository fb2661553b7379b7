package conformance

import (
	"context"
	"time"

	"github.com/ktables/ktables/transport"
)

// Harness connects the suite to the system under test: a transport adapter
// and the broker (or in-memory cluster) behind it.
type Harness interface {
	// NewTransport returns a new client of the system under test. Every
	// case gets its own and the suite closes it when the case ends. When
	// Features().SecondProcess is true, clients returned by successive calls
	// share one cluster, as two processes would.
	NewTransport(ctx context.Context) (transport.Transport, error)

	// Features says what the system under test supports. Cases that need
	// a missing feature are skipped, saying which and why; nothing else
	// skips.
	Features() Features
}

// Features are what a harness can do beyond the required Transport. Each
// false field skips the cases that need it (see Feature for what each
// means). A field set to true is a promise the suite checks: claiming
// TopicConfig for a transport that does not implement
// transport.TopicConfigurer fails the cases that use it.
type Features struct {
	// TopicConfig: the transport implements transport.TopicConfigurer and
	// the broker serves DescribeConfigs and incremental alter.
	TopicConfig bool
	// CreatePartitions: the transport implements transport.PartitionAdder.
	CreatePartitions bool
	// Transactions: the harness implements Transactor.
	Transactions bool
	// CompactionControl: the harness implements Compactor.
	CompactionControl bool
	// FaultInjection: the harness implements FaultInjector.
	FaultInjection bool
	// SecondProcess: NewTransport returns independent clients of one
	// cluster, so the suite can model two processes.
	SecondProcess bool
	// Watermarks: the transport fills transport.Batch.HighWatermarks from
	// the fetch answers (optional for a transport, SPEC T3).
	Watermarks bool
}

// Feature names one field of Features, for Case.Requires and skip messages.
type Feature int

// The features, one per field of Features.
const (
	FeatureTopicConfig Feature = iota + 1
	FeatureCreatePartitions
	FeatureTransactions
	FeatureCompactionControl
	FeatureFaultInjection
	FeatureSecondProcess
	FeatureWatermarks
)

var featureInfo = map[Feature]struct{ name, why string }{
	FeatureTopicConfig: {"TopicConfig",
		"the transport does not describe or alter topic configs (transport.TopicConfigurer); EnsureTopic then reports the policy as unreadable"},
	FeatureCreatePartitions: {"CreatePartitions",
		"the suite cannot grow a topic (transport.PartitionAdder), so partitions added after open are not exercised"},
	FeatureTransactions: {"Transactions",
		"the harness cannot write transactional batches (Transactor), so control records and aborted batches are not exercised"},
	FeatureCompactionControl: {"CompactionControl",
		"the harness cannot compact on demand (Compactor), so compaction holes are not exercised"},
	FeatureFaultInjection: {"FaultInjection",
		"the harness cannot inject broker errors (FaultInjector), so retry and failure paths are not exercised"},
	FeatureSecondProcess: {"SecondProcess",
		"NewTransport does not return independent clients of one cluster"},
	FeatureWatermarks: {"Watermarks",
		"the transport leaves Batch.HighWatermarks nil, so tables report no lag and confirm the head by idle long polls only"},
}

// String returns the name of the Features field.
func (f Feature) String() string {
	if i, ok := featureInfo[f]; ok {
		return i.name
	}
	return "Feature(?)"
}

// Has reports whether fs includes f.
func (fs Features) Has(f Feature) bool {
	switch f {
	case FeatureTopicConfig:
		return fs.TopicConfig
	case FeatureCreatePartitions:
		return fs.CreatePartitions
	case FeatureTransactions:
		return fs.Transactions
	case FeatureCompactionControl:
		return fs.CompactionControl
	case FeatureFaultInjection:
		return fs.FaultInjection
	case FeatureSecondProcess:
		return fs.SecondProcess
	case FeatureWatermarks:
		return fs.Watermarks
	}
	return false
}

// Compactor is the optional harness capability behind
// Features.CompactionControl.
type Compactor interface {
	// Compact compacts every partition of topic now and returns when it is
	// done: for each key only its latest record is kept, which leaves holes
	// in the offsets. Whether the log start moves and whether the newest
	// segment is compacted is the broker's business (the suite copes with
	// Kafka's lazy and kfake's eager behaviour alike).
	Compact(ctx context.Context, topic string) error
}

// Transactor is the optional harness capability behind
// Features.Transactions: it writes raw records the way a transactional
// producer does, which no Transport method can.
type Transactor interface {
	// ProduceTransaction writes recs (each to its Partition) in one
	// transaction, then commits it, or aborts it when commit is false. Either
	// way the log gets a control record after the batch. A read-committed
	// fetch must deliver the records of a committed transaction, never those
	// of an aborted one, and move past both and past the control records.
	ProduceTransaction(ctx context.Context, topic string, recs []transport.Record, commit bool) error
}

// FaultInjector is the optional harness capability behind
// Features.FaultInjection.
type FaultInjector interface {
	// InjectFault makes the next f.Times calls of f.Op on topic fail the way
	// a broker would: with a retriable error (leader change, broker
	// restart) or, when f.Fatal, a fatal one (authorization). A harness may
	// apply a fault to every topic of its cluster; the cases that inject
	// faults therefore run serially (Case.Serial).
	InjectFault(ctx context.Context, f Fault) error
	// ClearFaults removes every fault not yet consumed.
	ClearFaults(ctx context.Context) error
}

// Fault describes errors to inject.
type Fault struct {
	Topic string
	Op    FaultOp
	Times int
	Fatal bool
}

// FaultOp is an operation a fault can hit.
type FaultOp int

// The operations faults can hit.
const (
	FaultFetch      FaultOp = iota + 1 // Fetcher.Poll
	FaultProduce                       // Transport.Produce
	FaultEndOffsets                    // Transport.EndOffsets
)

func (o FaultOp) String() string {
	switch o {
	case FaultFetch:
		return "fetch"
	case FaultProduce:
		return "produce"
	case FaultEndOffsets:
		return "end offsets"
	}
	return "FaultOp(?)"
}

// Tuner is an optional Harness interface to adapt the suite's clocks to a
// slow system, such as a remote cluster reached over a WAN.
type Tuner interface {
	Tuning() Tuning
}

// Tuning adjusts the suite's timing. Zero fields keep the defaults.
type Tuning struct {
	// CaseTimeout is the deadline of each case (default 30 s). Every
	// blocking call of a case runs under it; a case still running well
	// after it means a call ignored its context, and the suite panics with
	// a goroutine dump rather than hang.
	CaseTimeout time.Duration
	// Prompt is how soon a call that must not wait has to return: end
	// offsets during a long poll (X2), an idle barrier (B4), a Poll whose
	// context ended or whose fetcher closed (X3). Default 1 s; it must stay
	// below half of LongPoll.
	Prompt time.Duration
	// LongPoll is the fetch max wait used where a case needs a long poll
	// to be in flight (default 5 s). Correct transports never make a case
	// wait for it in full.
	LongPoll time.Duration
}

const (
	defaultCaseTimeout = 30 * time.Second
	defaultPrompt      = time.Second
	defaultLongPoll    = 5 * time.Second
)

func tuningOf(h Harness) Tuning {
	var tu Tuning
	if t, ok := h.(Tuner); ok {
		tu = t.Tuning()
	}
	if tu.CaseTimeout <= 0 {
		tu.CaseTimeout = defaultCaseTimeout
	}
	if tu.Prompt <= 0 {
		tu.Prompt = defaultPrompt
	}
	if tu.LongPoll <= 0 {
		tu.LongPoll = defaultLongPoll
	}
	if tu.LongPoll < 2*tu.Prompt {
		tu.LongPoll = 2 * tu.Prompt
	}
	return tu
}
