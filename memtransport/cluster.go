package memtransport

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ktables/ktables/transport"
)

// Cluster is an in-memory broker: topics, partitions, logs and configs. It is
// safe for concurrent use. Its methods act on the broker directly, bypassing
// fault injection and latency; clients reach it through [Cluster.Transport].
type Cluster struct {
	cfg config

	mu     sync.RWMutex
	topics map[string]*topic

	done      chan struct{} // closed by Close: ends every client
	closeOnce sync.Once

	faults faults
	calls  [numOps]atomic.Int64
}

// NewCluster returns an empty cluster.
func NewCluster(opts ...ClusterOption) *Cluster {
	c := &Cluster{cfg: defaultConfig(), topics: make(map[string]*topic), done: make(chan struct{})}
	for _, o := range opts {
		o(&c.cfg)
	}
	return c
}

// Transport returns a new client of the cluster, as one process would hold.
// Closing it ends only its own calls and fetchers.
func (c *Cluster) Transport() *Transport {
	return &Transport{c: c, done: make(chan struct{})}
}

// Close ends the cluster: every client call and fetcher then fails with an
// error matching [transport.ErrClosed]. The data stays inspectable through
// the Cluster methods. Close is idempotent.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() { close(c.done) })
	return nil
}

// lookup finds a topic, creating it when auto-creation is on and create
// is set.
func (c *Cluster) lookup(op, name string, create bool) (*topic, error) {
	c.mu.RLock()
	tp := c.topics[name]
	c.mu.RUnlock()
	if tp != nil {
		return tp, nil
	}
	if create && c.cfg.autoCreate && validateTopicName(name) == nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if tp = c.topics[name]; tp == nil {
			tp = newTopic(name, c.cfg.defaultPartitions, nil)
			c.topics[name] = tp
		}
		return tp, nil
	}
	return nil, transport.NewError(op, name, transport.ErrUnknownTopic, nil)
}

// CreateTopic creates a topic. Partitions ≤ 0 means 1; the replication factor
// is ignored (there is one broker). An existing topic is an error matching
// [transport.ErrTopicExists]; an invalid name one matching
// [transport.ErrInvalidRequest]; an invalid config one matching
// [transport.ErrInvalidConfig].
func (c *Cluster) CreateTopic(spec transport.TopicSpec) error {
	op := OpCreateTopic.String()
	if err := validateTopicName(spec.Name); err != nil {
		return transport.NewError(op, spec.Name, transport.ErrInvalidRequest, err)
	}
	if err := validateConfigs(spec.Configs); err != nil {
		return transport.NewError(op, spec.Name, transport.ErrInvalidConfig, err)
	}
	n := spec.Partitions
	if n <= 0 {
		n = 1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.topics[spec.Name]; ok {
		return transport.NewError(op, spec.Name, transport.ErrTopicExists, nil)
	}
	c.topics[spec.Name] = newTopic(spec.Name, n, spec.Configs)
	return nil
}

// DeleteTopic removes a topic. Fetchers reading it fail with an error
// matching [transport.ErrUnknownTopic], also if a topic of the same name is
// created later (as a Kafka client notices the new topic id).
func (c *Cluster) DeleteTopic(name string) error {
	c.mu.Lock()
	tp := c.topics[name]
	delete(c.topics, name)
	c.mu.Unlock()
	if tp == nil {
		return transport.NewError("delete topic", name, transport.ErrUnknownTopic, nil)
	}
	tp.mu.Lock()
	tp.deleted = true
	tp.notifyLocked()
	tp.mu.Unlock()
	return nil
}

// CreatePartitions grows a topic to total partitions. As in Kafka, a total
// not above the current count is an error matching
// [transport.ErrInvalidRequest].
func (c *Cluster) CreatePartitions(name string, total int32) error {
	tp, err := c.lookup(OpCreatePartitions.String(), name, false)
	if err != nil {
		return err
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if tp.deleted {
		return transport.NewError(OpCreatePartitions.String(), name, transport.ErrUnknownTopic, nil)
	}
	if int(total) <= len(tp.parts) {
		return transport.NewError(OpCreatePartitions.String(), name, transport.ErrInvalidRequest,
			fmt.Errorf("topic has %d partitions, asked for %d", len(tp.parts), total))
	}
	for len(tp.parts) < int(total) {
		tp.parts = append(tp.parts, &partLog{})
	}
	tp.notifyLocked()
	return nil
}

// Topics returns the names of all topics, sorted.
func (c *Cluster) Topics() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Sorted(maps.Keys(c.topics))
}

// TopicConfig returns a copy of the topic's explicit config overrides.
func (c *Cluster) TopicConfig(name string) (map[string]string, error) {
	tp, err := c.lookup("topic config", name, false)
	if err != nil {
		return nil, err
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return maps.Clone(tp.configs), nil
}

// partitionCount returns the number of partitions of a topic.
func (tp *topic) partitionCount() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return len(tp.parts)
}
