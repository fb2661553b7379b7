package ktables

import (
	"container/heap"
	"log/slog"
	"strings"
	"time"
)

// MinTTL is the shortest TTL WithTTL and Announce accept: below it, timer
// and scheduling noise would be a large part of the lease.
const MinTTL = 100 * time.Millisecond

// leaseTable tracks, for a table opened WithTTL, when each present key's
// last record was written, and a queue of deadlines ordered by time. It
// lives under the change log's write lock: the reader renews, the expiry
// timer expires.
type leaseTable struct {
	m       map[string]*leaseEntry
	q       expiryQueue
	poke    chan struct{} // wakes the timer when the earliest deadline moved
	started bool
}

type leaseEntry struct {
	ts       time.Time // the last record's timestamp, as the event shows it
	pos      Position
	deadline time.Time // when the key expires
	queued   time.Time // its live entry in the queue; later ones are stale
}

// leaseRenew records a set of key with a record timestamped ts and reports
// whether the record is still within the TTL. Callers hold the write lock.
//
// The lease is measured from min(ts, now): a writer whose clock runs ahead
// of this process must not keep a crashed member alive past the TTL.
func (t *Table[V]) leaseRenew(key string, ts time.Time, pos Position) bool {
	l := &t.changes.leases
	now := time.Now()
	from := ts
	if from.IsZero() || from.After(now) {
		from = now
	}
	deadline := from.Add(t.cfg.ttl)
	if !now.Before(deadline) {
		delete(l.m, key)
		return false
	}
	if l.m == nil {
		l.m = make(map[string]*leaseEntry)
		l.poke = make(chan struct{}, 1)
	}
	e := l.m[key]
	if e == nil {
		// key aliases the record's bytes; the lease map outlives it.
		key = strings.Clone(key)
		e = &leaseEntry{}
		l.m[key] = e
	}
	e.ts, e.pos, e.deadline = ts, pos, deadline
	// One queue entry per key suffices while deadlines only move later (the
	// timer re-queues at the latest deadline); an earlier one, from an
	// out-of-order timestamp, needs its own.
	if e.queued.IsZero() || deadline.Before(e.queued) {
		e.queued = deadline
		heap.Push(&l.q, expiryItem{at: deadline, key: key})
		if l.q[0].key == key {
			select {
			case l.poke <- struct{}{}:
			default:
			}
		}
	}
	if !l.started {
		l.started = true
		// The reader is counted in wg, so adding here cannot race Close.
		t.wg.Add(1)
		go t.expireLoop(l.poke)
	}
	return true
}

// forget drops a key removed by a tombstone; its queue entries go stale.
func (l *leaseTable) forget(key string) { delete(l.m, key) }

// expireLoop hides keys whose lease ran out, at their deadline, until the
// table closes or fails (a failed table is frozen: it stops expiring too).
func (t *Table[V]) expireLoop(poke <-chan struct{}) {
	defer t.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		var due <-chan time.Time
		if next, ok := t.expireDue(); ok {
			timer.Reset(time.Until(next))
			due = timer.C
		}
		select {
		case <-due:
		case <-poke:
		case <-t.closed:
			return
		case <-t.failed:
			return
		}
		timer.Stop()
	}
}

// expireDue expires every key whose deadline passed and returns the next
// deadline, if any.
func (t *Table[V]) expireDue() (next time.Time, ok bool) {
	c := &t.changes
	c.lock(t.watchBufferSize())
	defer c.unlock()
	l := &c.leases
	now := time.Now()
	for len(l.q) > 0 && !now.Before(l.q[0].at) {
		it := heap.Pop(&l.q).(expiryItem)
		e := l.m[it.key]
		if e == nil || !it.at.Equal(e.queued) {
			continue // deleted, or superseded by an earlier entry
		}
		if now.Before(e.deadline) {
			e.queued = e.deadline // renewed since it was queued
			heap.Push(&l.q, expiryItem{at: e.deadline, key: it.key})
			continue
		}
		delete(l.m, it.key)
		if old, had := t.store.remove(it.key); had {
			c.add(change[V]{kind: EventExpired, key: it.key, old: old, hadOld: true, ts: e.ts, pos: e.pos})
			t.stats.expired.Add(1)
			t.log.Debug("ktables: key expired", slog.String("key", it.key), slog.Time("last_record", e.ts))
		}
	}
	if len(l.q) == 0 {
		return time.Time{}, false
	}
	return l.q[0].at, true
}

type expiryItem struct {
	at  time.Time
	key string
}

// expiryQueue is a min-heap of deadlines (container/heap).
type expiryQueue []expiryItem

func (q expiryQueue) Len() int           { return len(q) }
func (q expiryQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q expiryQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *expiryQueue) Push(x any)        { *q = append(*q, x.(expiryItem)) }
func (q *expiryQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
