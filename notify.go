package ktables

import "sync"

// notifier wakes every goroutine waiting for the reader's progress. A waiter
// takes the current channel, re-checks its condition, then blocks on it; the
// reader closes the channel after each applied batch. No channel is made
// while nobody waits, so an idle table allocates nothing.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	ch := n.ch
	n.mu.Unlock()
	return ch
}

func (n *notifier) broadcast() {
	n.mu.Lock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
	n.mu.Unlock()
}
