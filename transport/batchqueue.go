package transport

import "sync"

// BatchQueue batches items per key the way Kafka producers batch records
// per partition, without a linger: a key has at most one Send in flight;
// items added meanwhile wait and go together in the next one. A lone item
// is sent at once, so an idle writer pays one round trip; under concurrency
// the number of sends drops to about one per round trip. Items of one key
// are sent in the order they were added. An adapter whose client sends one
// request per call uses it to keep many concurrent Produce calls from
// costing one request (and connection) each.
//
// Set the exported fields before the first Add; it is then safe for
// concurrent use.
type BatchQueue[K comparable, T any] struct {
	// MaxItems and MaxBytes bound one batch; a first item larger than
	// MaxBytes goes alone.
	MaxItems, MaxBytes int
	// Size is an item's weight against MaxBytes.
	Size func(T) int
	// Send sends one batch, on a goroutine of the queue's own; it reports
	// each item's outcome itself.
	Send func(key K, batch []T)

	mu     sync.Mutex
	queues map[K]*keyQueue[T]
	wg     sync.WaitGroup
}

type keyQueue[T any] struct {
	pending  []T
	inFlight bool
}

// Add queues item under key and starts a sender for key if none runs.
func (b *BatchQueue[K, T]) Add(key K, item T) {
	b.mu.Lock()
	if b.queues == nil {
		b.queues = make(map[K]*keyQueue[T])
	}
	q := b.queues[key]
	if q == nil {
		q = &keyQueue[T]{}
		b.queues[key] = q
	}
	q.pending = append(q.pending, item)
	start := !q.inFlight
	q.inFlight = true
	b.mu.Unlock()
	if start {
		b.wg.Add(1)
		go b.sendLoop(key, q)
	}
}

// Wait waits for the senders running; callers stop adding first.
func (b *BatchQueue[K, T]) Wait() { b.wg.Wait() }

// sendLoop sends q's items in batches until it is empty.
func (b *BatchQueue[K, T]) sendLoop(key K, q *keyQueue[T]) {
	defer b.wg.Done()
	for {
		b.mu.Lock()
		n, size := 0, 0
		for n < len(q.pending) && n < b.MaxItems && (n == 0 || size+b.Size(q.pending[n]) <= b.MaxBytes) {
			size += b.Size(q.pending[n])
			n++
		}
		batch := append([]T(nil), q.pending[:n]...)
		q.pending = q.pending[n:]
		if len(q.pending) == 0 {
			q.pending = nil
		}
		if len(batch) == 0 {
			q.inFlight = false
			delete(b.queues, key)
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		b.Send(key, batch)
	}
}
