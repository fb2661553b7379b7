package ktables

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ktables/ktables/transport"
)

// DefaultWatchBuffer is how many changes the shared watch buffer holds
// (WithWatchBuffer): how far a watcher may fall behind before it resyncs.
const DefaultWatchBuffer = 4096

// change is one applied change as the reader logs it for watchers.
type change[V any] struct {
	kind     EventKind // zero: folded into a later change (WatchCoalesce)
	key      string
	old, new V
	hadOld   bool
	ts       time.Time
	pos      Position
}

func (ch *change[V]) event() Event[V] {
	return Event[V]{Kind: ch.kind, Key: ch.key, Old: ch.old, HadOld: ch.hadOld, New: ch.new, Time: ch.ts, Position: ch.pos}
}

// changeLog is the one structure every watcher of a table reads (ADR 11).
// The reader appends each change once, whatever the number of watchers, to
// a ring; watchers copy from it at their own pace under the read lock and
// are woken by one broadcast per batch. The write lock is held by the
// reader for a whole batch and by the expiry timer, so a watcher's snapshot
// (taken under the read lock) always matches a ring position exactly.
type changeLog[V any] struct {
	mu       sync.RWMutex
	watchers atomic.Int64 // watches in progress

	// Under mu.
	live     bool        // some watch is in progress: log changes
	ring     []change[V] // power-of-two length; nil while nobody watches
	head     uint64      // sequence number of the next change
	appended bool        // the current batch logged something
	leases   leaseTable  // WithTTL only (expiry.go)

	notify notifier // woken after a batch logged something
}

// lock takes the write lock for a batch of changes and decides whether to
// log them.
func (c *changeLog[V]) lock(size int) {
	c.mu.Lock()
	c.live = c.watchers.Load() > 0
	switch {
	case !c.live:
		c.ring = nil // drop the values the last watcher left behind
	case c.ring == nil:
		c.ring = make([]change[V], size)
	}
}

// unlock ends a batch and wakes the watchers if it logged anything.
func (c *changeLog[V]) unlock() {
	woke := c.appended
	c.appended = false
	c.mu.Unlock()
	if woke {
		c.notify.broadcast()
	}
}

// add logs ch if anyone watches. Callers hold the write lock.
func (c *changeLog[V]) add(ch change[V]) {
	if !c.live {
		return
	}
	// The reader's key aliases the record's bytes: the ring and its
	// watchers keep their own (ADR 7).
	ch.key = strings.Clone(ch.key)
	c.ring[c.head&uint64(len(c.ring)-1)] = ch
	c.head++
	c.appended = true
}

// The reader's hooks. reader.apply calls watchBegin before a batch,
// watchSet before each store set, watchDelete after each store remove, and
// watchEnd once the batch's positions are published.

func (t *Table[V]) watchBegin() { t.changes.lock(t.watchBufferSize()) }

func (t *Table[V]) watchEnd() { t.changes.unlock() }

// watching is valid between watchBegin and watchEnd.
func (t *Table[V]) watching() bool { return t.changes.live }

// watchSet logs a set and reports whether the store should apply it: false
// when the table has a TTL and the record is already older than it, in
// which case the key is hidden now (SPEC V5).
func (t *Table[V]) watchSet(key string, v V, rec *transport.Record) bool {
	c := &t.changes
	pos := Position{Partition: rec.Partition, Offset: rec.Offset}
	if t.cfg.ttl > 0 && !t.leaseRenew(key, rec.Timestamp, pos) {
		if old, ok := t.store.remove(key); ok {
			c.add(change[V]{kind: EventExpired, key: key, old: old, hadOld: true, ts: rec.Timestamp, pos: pos})
			t.stats.expired.Add(1)
		}
		return false
	}
	if c.live {
		old, had := t.store.get(key)
		c.add(change[V]{kind: EventSet, key: key, old: old, new: v, hadOld: had, ts: rec.Timestamp, pos: pos})
	}
	return true
}

// watchDelete logs a tombstone that removed a key.
func (t *Table[V]) watchDelete(key string, old V, removed bool, rec *transport.Record) {
	if t.cfg.ttl > 0 {
		t.changes.leases.forget(key)
	}
	if removed {
		t.changes.add(change[V]{kind: EventDelete, key: key, old: old, hadOld: true,
			ts: rec.Timestamp, pos: Position{Partition: rec.Partition, Offset: rec.Offset}})
	}
}

func (t *Table[V]) watchBufferSize() int {
	if t.cfg.watchBuffer == 0 {
		return DefaultWatchBuffer
	}
	return t.cfg.watchBuffer
}
