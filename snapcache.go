package ktables

import (
	"maps"
	"sync"
	"sync/atomic"
)

// A Snapshot of the packed store is a clone of a Go map the store keeps
// materialized (ADR 17). Rebuilding the copy inserts every key into a new
// map, a random write per key; maps.Clone copies a map's groups whole, many
// times faster. So the first Snapshot builds a map and keeps it, the writer
// records which keys it changes from then on, and each later Snapshot
// patches those keys into the map and clones it.
//
// The cache stays bounded: once more changes are pending than an eighth of
// the table (at least snapMinPending), the writer stops recording and the
// cache is freed, so a table whose Snapshots stopped costs nothing, and the
// recorded keys never pin many replaced entries.

// snapMinPending is the least number of pending changes a cache tolerates,
// so a small table is not rebuilt over a handful of writes.
const snapMinPending = 64

// snapLog is the writer's side of the cache. on and limit change only
// while every shard's lock is held: all read locks by a Snapshot holding
// snapCache.mu, or all write locks by a writer abandoning the cache. A
// writer reads them under its shard's lock, which excludes both.
type snapLog struct {
	on      bool
	limit   int64
	pending atomic.Int64 // changes recorded since the cache was patched
	// abandoned says the cache no longer follows the store and should be
	// freed by whoever next holds snapCache.mu alone.
	abandoned atomic.Bool
}

// snapCache is the reader side: m is a map[string]V for the store's V.
type snapCache struct {
	mu sync.RWMutex // Lock to build, patch or free m; RLock to clone it
	m  any
}

// record notes a change to key, under the lock of the shard holding key,
// and reports whether the pending changes passed the limit.
func (s *pshard) record(log *snapLog, key string) (over bool) {
	s.dirty = append(s.dirty, key)
	return log.pending.Add(1) > log.limit
}

// abandon stops recording, drops the recorded keys and frees the cache
// unless a Snapshot holds it (which frees it on the way out). The writer
// calls it, without a shard lock, after a change passed the limit.
func (p packedMap) abandon() {
	p.lockAll()
	// A Snapshot may have patched the cache since the change was recorded.
	if p.log.on && p.log.pending.Load() > p.log.limit {
		p.log.on = false
		for i := range p.shards {
			p.shards[i].dirty = nil
		}
		p.log.abandoned.Store(true)
	}
	p.unlockAll()
	p.freeAbandoned()
}

// freeAbandoned frees an abandoned cache if nobody uses it. Whoever held
// snapCache.mu calls it after releasing it, so a cache abandoned while a
// Snapshot was cloning it is freed when the last clone ends.
func (p packedMap) freeAbandoned() {
	c := &p.cache
	if !p.log.abandoned.Load() || !c.mu.TryLock() {
		return
	}
	if p.log.abandoned.Load() {
		c.m = nil
		p.log.abandoned.Store(false)
	}
	c.mu.Unlock()
}

func (p packedMap) lockAll() {
	for i := range p.shards {
		p.shards[i].mu.Lock()
	}
}

func (p packedMap) unlockAll() {
	for i := range p.shards {
		p.shards[i].mu.Unlock()
	}
}

func (p packedMap) rlockAll() {
	for i := range p.shards {
		p.shards[i].mu.RLock()
	}
}

func (p packedMap) runlockAll() {
	for i := range p.shards {
		p.shards[i].mu.RUnlock()
	}
}

// cachedSnapshot returns a copy of the store as a map of val(e) for each
// entry e, taken at one point in time during the call.
func cachedSnapshot[V any](p packedMap, val func(*kv) V) map[string]V {
	c := &p.cache
	defer p.freeAbandoned()
	c.mu.RLock()
	// No change recorded since the cache was patched, while it is held:
	// it is the store's state now.
	if m, ok := c.m.(map[string]V); ok && p.log.pending.Load() == 0 {
		out := maps.Clone(m)
		c.mu.RUnlock()
		return out
	}
	c.mu.RUnlock()

	c.mu.Lock()
	p.rlockAll()
	m, ok := c.m.(map[string]V)
	if ok && p.log.on {
		patchCache(p, m, val)
	} else {
		m = buildCopy(p, val)
		c.m = m
	}
	p.log.on = true
	p.log.limit = max(int64(len(m)/8), snapMinPending)
	p.log.pending.Store(0)
	p.log.abandoned.Store(false)
	p.runlockAll()
	c.mu.Unlock()

	// Another Snapshot may patch the cache before this one clones it: the
	// copy is then of a later state, still one the table was in during
	// this call.
	c.mu.RLock()
	defer c.mu.RUnlock()
	if m, ok := c.m.(map[string]V); ok {
		return maps.Clone(m)
	}
	// The writer freed it meanwhile (abandoned): copy the store directly.
	p.rlockAll()
	defer p.runlockAll()
	return buildCopy(p, val)
}

// buildCopy copies every entry into a new map; the caller holds every
// shard's lock.
func buildCopy[V any](p packedMap, val func(*kv) V) map[string]V {
	out := make(map[string]V, p.len())
	for i := range p.shards {
		for _, e := range p.shards[i].tab.Load().ptrs {
			if e != nil {
				out[(*kv)(e).key()] = val((*kv)(e))
			}
		}
	}
	return out
}

// patchCache brings m up to date with the keys the writer recorded; the
// caller holds every shard's lock. A key recorded twice is looked up twice,
// which costs less than deduplicating every record.
func patchCache[V any](p packedMap, m map[string]V, val func(*kv) V) {
	for i := range p.shards {
		sh := &p.shards[i]
		t := sh.tab.Load()
		for _, k := range sh.dirty {
			if j := t.find(p.seed.hash(k), k); j >= 0 {
				e := t.at(j)
				m[e.key()] = val(e) // the key now aliases the live entry
			} else {
				delete(m, k)
			}
		}
		clear(sh.dirty) // release the replaced entries the keys alias
		sh.dirty = sh.dirty[:0]
	}
}
