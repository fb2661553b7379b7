package memtransport

import (
	"fmt"
	"sync"

	"github.com/ktables/ktables/transport"
)

// topic is one topic's partitions and configuration. Its mutex guards the
// logs; it is never held while waiting, so offset queries are never delayed
// by a long poll (SPEC X2).
type topic struct {
	name string

	mu      sync.Mutex
	parts   []*partLog
	configs map[string]string // explicit overrides only
	deleted bool
	// changed is closed (and dropped) when any partition of the topic gets
	// new offsets, grows or the topic is deleted, waking every waiting Poll.
	// It is made lazily by the first waiter, so appends with nobody waiting
	// allocate nothing.
	changed chan struct{}
}

func newTopic(name string, partitions int32, configs map[string]string) *topic {
	tp := &topic{name: name, configs: make(map[string]string, len(configs))}
	for k, v := range configs {
		tp.configs[k] = v
	}
	tp.parts = make([]*partLog, partitions)
	for i := range tp.parts {
		tp.parts[i] = &partLog{}
	}
	return tp
}

// notifyLocked wakes the waiters. tp.mu must be held.
func (tp *topic) notifyLocked() {
	if tp.changed != nil {
		close(tp.changed)
		tp.changed = nil
	}
}

// waitLocked returns a channel closed at the next change. Taking it under
// tp.mu, in the same critical section that found nothing to return, is what
// makes a lost wake-up impossible.
func (tp *topic) waitLocked() <-chan struct{} {
	if tp.changed == nil {
		tp.changed = make(chan struct{})
	}
	return tp.changed
}

// partLocked returns partition p. tp.mu must be held.
func (tp *topic) partLocked(op string, p int32) (*partLog, error) {
	if tp.deleted {
		return nil, transport.NewError(op, tp.name, transport.ErrUnknownTopic, nil)
	}
	if p < 0 || int(p) >= len(tp.parts) {
		return nil, transport.NewError(op, tp.name, transport.ErrUnknownPartition,
			fmt.Errorf("partition %d of %d", p, len(tp.parts)))
	}
	return tp.parts[p], nil
}

// validateTopicName applies Kafka's rules (SPEC E3).
func validateTopicName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("topic name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("topic name %q is not allowed", name)
	case len(name) > 249:
		return fmt.Errorf("topic name is %d characters long, the limit is 249", len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic name %q has the illegal character %q; allowed are [a-zA-Z0-9._-]", name, c)
		}
	}
	return nil
}
