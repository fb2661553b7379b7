package memtransport

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ktables/ktables/transport"
)

var (
	_ transport.Transport       = (*Transport)(nil)
	_ transport.TopicConfigurer = (*Transport)(nil)
	_ transport.PartitionAdder  = (*Transport)(nil)
	_ transport.Fetcher         = (*fetcher)(nil)
)

// Transport is one client of a [Cluster], as one process would hold. It is
// safe for concurrent use. Its calls go through the cluster's fault
// injection and are counted (see [Cluster.FailNext], [Cluster.Calls]).
type Transport struct {
	c         *Cluster
	owns      bool          // Close also closes c (built by New)
	done      chan struct{} // closed by Close
	closeOnce sync.Once
}

// New returns a client of a new cluster built with opts. Closing the client
// also closes the cluster; use [NewCluster] and [Cluster.Transport] for
// several clients of one cluster.
func New(opts ...ClusterOption) *Transport {
	t := NewCluster(opts...).Transport()
	t.owns = true
	return t
}

// Cluster returns the cluster the client is connected to.
func (t *Transport) Cluster() *Cluster { return t.c }

// Close ends the client: its fetchers' Polls return, and later calls fail,
// with an error matching [transport.ErrClosed]. The cluster keeps its data
// unless the client came from [New]. Close is idempotent.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		close(t.done)
		if t.owns {
			t.c.Close()
		}
	})
	return nil
}

func (t *Transport) closed() bool {
	select {
	case <-t.done:
		return true
	case <-t.c.done:
		return true
	default:
		return false
	}
}

func closedError(op Op, topicName string) error {
	return transport.NewError(op.String(), topicName, transport.ErrClosed, nil)
}

// begin runs what every call does first: count it, check the context and the
// client, wait out injected latency, and take an injected failure. Context
// errors are returned as they are, never wrapped.
func (t *Transport) begin(ctx context.Context, op Op, topicName string) error {
	t.c.calls[op].Add(1)
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.closed() {
		return closedError(op, topicName)
	}
	if d := t.c.faults.latencyOf(op); d > 0 {
		if err := t.sleep(ctx, op, topicName, d); err != nil {
			return err
		}
	}
	return t.c.faults.take(op, topicName)
}

func (t *Transport) sleep(ctx context.Context, op Op, topicName string, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.done:
	case <-t.c.done:
	}
	return closedError(op, topicName)
}

// Partitions returns the partition ids of a topic in ascending order.
func (t *Transport) Partitions(ctx context.Context, topicName string) ([]int32, error) {
	if err := t.begin(ctx, OpPartitions, topicName); err != nil {
		return nil, err
	}
	tp, err := t.c.lookup(OpPartitions.String(), topicName, true)
	if err != nil {
		return nil, err
	}
	ids := make([]int32, tp.partitionCount())
	for i := range ids {
		ids[i] = int32(i)
	}
	return ids, nil
}

// StartOffsets returns the log start offset of each requested partition.
// It takes only the topic's lock briefly, so a long poll never delays it.
func (t *Transport) StartOffsets(ctx context.Context, topicName string, partitions []int32) (map[int32]int64, error) {
	return t.offsets(ctx, OpStartOffsets, topicName, partitions, func(l *partLog) int64 { return l.start })
}

// EndOffsets returns the high watermark of each requested partition. It
// takes only the topic's lock briefly, so a long poll never delays it
// (SPEC X2, B4).
func (t *Transport) EndOffsets(ctx context.Context, topicName string, partitions []int32) (map[int32]int64, error) {
	return t.offsets(ctx, OpEndOffsets, topicName, partitions, func(l *partLog) int64 { return l.end })
}

func (t *Transport) offsets(ctx context.Context, op Op, topicName string, partitions []int32, get func(*partLog) int64) (map[int32]int64, error) {
	if err := t.begin(ctx, op, topicName); err != nil {
		return nil, err
	}
	tp, err := t.c.lookup(op.String(), topicName, true)
	if err != nil {
		return nil, err
	}
	out := make(map[int32]int64, len(partitions))
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for _, p := range partitions {
		l, err := tp.partLocked(op.String(), p)
		if err != nil {
			return nil, err
		}
		out[p] = get(l)
	}
	return out, nil
}

// Produce appends rec to rec.Partition and returns its offset. A zero
// timestamp becomes the current time. An unknown partition is an error
// matching [transport.ErrUnknownPartition] (retriable, as a leader election
// would be), an unknown topic one matching [transport.ErrUnknownTopic].
func (t *Transport) Produce(ctx context.Context, topicName string, rec transport.Record) (int64, error) {
	if err := t.begin(ctx, OpProduce, topicName); err != nil {
		return 0, err
	}
	tp, err := t.c.lookup(OpProduce.String(), topicName, true)
	if err != nil {
		return 0, err
	}
	return tp.append(OpProduce.String(), rec)
}

// CreateTopic creates a topic; see [Cluster.CreateTopic].
func (t *Transport) CreateTopic(ctx context.Context, spec transport.TopicSpec) error {
	if err := t.begin(ctx, OpCreateTopic, spec.Name); err != nil {
		return err
	}
	return t.c.CreateTopic(spec)
}

// CreatePartitions grows a topic; see [Cluster.CreatePartitions].
func (t *Transport) CreatePartitions(ctx context.Context, topicName string, total int32) error {
	if err := t.begin(ctx, OpCreatePartitions, topicName); err != nil {
		return err
	}
	return t.c.CreatePartitions(topicName, total)
}

// DescribeTopicConfig returns the topic's explicit overrides (SourceTopic)
// and Kafka's defaults for common keys (SourceDefault), sorted by name.
func (t *Transport) DescribeTopicConfig(ctx context.Context, topicName string) ([]transport.ConfigEntry, error) {
	if err := t.begin(ctx, OpDescribeConfig, topicName); err != nil {
		return nil, err
	}
	tp, err := t.c.lookup(OpDescribeConfig.String(), topicName, false)
	if err != nil {
		return nil, err
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if tp.deleted {
		return nil, transport.NewError(OpDescribeConfig.String(), topicName, transport.ErrUnknownTopic, nil)
	}
	return tp.describeLocked(), nil
}

// AlterTopicConfig sets the given keys and keeps every other override. An
// invalid value (such as cleanup.policy=forever or a non-numeric
// retention.ms) is an error matching [transport.ErrInvalidConfig] and
// changes nothing.
func (t *Transport) AlterTopicConfig(ctx context.Context, topicName string, set map[string]string) error {
	if err := t.begin(ctx, OpAlterConfig, topicName); err != nil {
		return err
	}
	tp, err := t.c.lookup(OpAlterConfig.String(), topicName, false)
	if err != nil {
		return err
	}
	return tp.alter(OpAlterConfig.String(), set)
}

// NewFetcher opens a fetch session on a topic from the given positions; more
// partitions can be added with Assign. Unknown partitions are an error
// matching [transport.ErrUnknownPartition].
func (t *Transport) NewFetcher(ctx context.Context, topicName string, from map[int32]int64, opts transport.FetchOptions) (transport.Fetcher, error) {
	if err := t.begin(ctx, OpNewFetcher, topicName); err != nil {
		return nil, err
	}
	tp, err := t.c.lookup(OpNewFetcher.String(), topicName, true)
	if err != nil {
		return nil, err
	}
	f := &fetcher{
		t:          t,
		tp:         tp,
		maxWait:    opts.MaxWait,
		maxBytes:   int(opts.MaxBytes),
		maxRecords: t.c.cfg.maxPollRecords,
		pos:        make(map[int32]int64, len(from)),
		closed:     make(chan struct{}),
	}
	if f.maxWait <= 0 {
		f.maxWait = t.c.cfg.fetchWait
	}
	if f.maxBytes <= 0 {
		f.maxBytes = t.c.cfg.maxPollBytes
	}
	if err := f.assign(OpNewFetcher.String(), from); err != nil {
		return nil, err
	}
	return f, nil
}

func unknownPartition(op, topicName string, p int32, n int) error {
	return transport.NewError(op, topicName, transport.ErrUnknownPartition, fmt.Errorf("partition %d of %d", p, n))
}
