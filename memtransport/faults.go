package memtransport

import (
	"errors"
	"sync"
	"time"

	"github.com/ktables/ktables/transport"
)

// Op names a client operation, for fault injection and call counting.
type Op uint8

// The operations of [Transport] and its fetchers.
const (
	OpPartitions       Op = iota // Transport.Partitions
	OpStartOffsets               // Transport.StartOffsets
	OpEndOffsets                 // Transport.EndOffsets
	OpNewFetcher                 // Transport.NewFetcher
	OpFetch                      // Fetcher.Poll
	OpProduce                    // Transport.Produce
	OpCreateTopic                // Transport.CreateTopic
	OpDescribeConfig             // Transport.DescribeTopicConfig
	OpAlterConfig                // Transport.AlterTopicConfig
	OpCreatePartitions           // Transport.CreatePartitions
	numOps
)

var opNames = [numOps]string{
	"partitions", "start offsets", "end offsets", "new fetcher", "fetch",
	"produce", "create topic", "describe config", "alter config", "create partitions",
}

// String returns the operation's name as it appears in errors.
func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return "unknown op"
}

type failRule struct {
	left int // < 0: until ClearFaults
	err  error
}

// faults holds the injected failures and latencies.
type faults struct {
	mu      sync.Mutex
	rules   [numOps][]failRule // consumed front to back
	latency [numOps]time.Duration
}

// FailNext makes the next n calls of op fail with err, after any failures
// queued earlier for op; n < 0 fails every call until [Cluster.ClearFaults].
// A nil err means a retriable broker-unavailable fault. An err that is not a
// *[transport.Error] is wrapped with [transport.NewError], its kind taken
// from the transport sentinel it matches, so its class is known: pass
// [transport.ErrAuthorization] for a fatal fault, [transport.ErrBrokerUnavailable]
// or [transport.ErrNotLeader] for retriable ones; an error matching no
// sentinel is retriable. Calls of op first count and wait out latency, then
// fail.
func (c *Cluster) FailNext(op Op, n int, err error) {
	if n == 0 || op >= numOps {
		return
	}
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	c.faults.rules[op] = append(c.faults.rules[op], failRule{left: n, err: err})
}

// SetLatency delays every call of op by d before it runs, honouring the
// call's context; zero removes the delay. For OpFetch the delay comes before
// the long poll, not instead of it.
func (c *Cluster) SetLatency(op Op, d time.Duration) {
	if op >= numOps {
		return
	}
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	c.faults.latency[op] = d
}

// ClearFaults removes every queued failure and latency.
func (c *Cluster) ClearFaults() {
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	c.faults.rules = [numOps][]failRule{}
	c.faults.latency = [numOps]time.Duration{}
}

// Calls returns how many calls of op the cluster's clients made, failed ones
// included.
func (c *Cluster) Calls(op Op) int64 {
	if op >= numOps {
		return 0
	}
	return c.calls[op].Load()
}

func (f *faults) latencyOf(op Op) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.latency[op]
}

// take consumes the next failure queued for op, if any.
func (f *faults) take(op Op, topicName string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.rules[op]
	if len(q) == 0 {
		return nil
	}
	r := &q[0]
	err := r.err
	if r.left > 0 {
		r.left--
		if r.left == 0 {
			f.rules[op] = q[1:]
		}
	}
	return classify(op, topicName, err)
}

// sentinels are the kinds an injected error is matched against, most
// specific first (the class sentinels last).
var sentinels = []error{
	transport.ErrTopicExists, transport.ErrUnknownTopic, transport.ErrUnknownPartition,
	transport.ErrAuthorization, transport.ErrAuthentication, transport.ErrInvalidConfig,
	transport.ErrInvalidRequest, transport.ErrRecordTooLarge, transport.ErrUnsupported,
	transport.ErrBrokerUnavailable, transport.ErrNotLeader, transport.ErrTimeout,
	transport.ErrClosed, transport.ErrRetriable, transport.ErrFatal,
}

func classify(op Op, topicName string, err error) error {
	if err == nil {
		return transport.NewError(op.String(), topicName, transport.ErrBrokerUnavailable, nil)
	}
	if te := (*transport.Error)(nil); errors.As(err, &te) {
		return err
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return transport.NewError(op.String(), topicName, s, err)
		}
	}
	return transport.NewError(op.String(), topicName, nil, err)
}
