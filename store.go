package ktables

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
)

// store is where a table keeps its entries. The flat table uses shardedMap;
// the grouped table a nested index. The reader goroutine is the only writer,
// through the narrower sink; any goroutine may read.
type store[V any] interface {
	// sink is what the reader writes through (reader.go).
	sink[V]
	get(key string) (V, bool)
	len() int
	// snapshot copies every entry at one point in time.
	snapshot() map[string]V
	// reserve prepares for a bulk load of about n records (the replay at
	// open).
	reserve(n int)
	// chunks calls fn with copies of disjoint parts of the store, so that a
	// caller can iterate without holding locks while user code runs.
	chunks(fn func(part []entry[V]) bool)
}

type keyVerdict uint8

const (
	keyOK      keyVerdict = iota
	keyInvalid            // not decodable at all (e.g. not UTF-8): KeyDecodeErrors
	keyForeign            // well-formed bytes but not this store's scheme: ForeignKeys
)

// entry is a key and its value as iteration hands them out; stores keep
// their own, more compact cells.
type entry[V any] struct {
	key string
	val V
}

// shardCount spreads readers over independent locks so parallel Gets scale
// with cores; a power of two for a cheap modulo.
const (
	shardBits  = 6
	shardCount = 1 << shardBits
)

// shardedMap is a map split into shards, each a compactMap behind its own
// RWMutex (ADR 4).
type shardedMap[V any] struct {
	seed   maphash.Seed
	count  atomic.Int64
	shards [shardCount]shard[V]
}

// The map is held by value: a Get then goes from the shard straight to the
// index, one dependent load fewer than through a pointer.
type shard[V any] struct {
	mu sync.RWMutex
	m  compactMap[V]
	_  [48]byte // keep neighbouring shards' locks off one cache line
}

func newShardedMap[V any]() *shardedMap[V] {
	s := &shardedMap[V]{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m.seed = s.seed
	}
	return s
}

// shardOf hashes key once: the top bits choose the shard, the low 32 bits
// the slot inside it, so the two never correlate.
func (s *shardedMap[V]) shardOf(key string) (*shard[V], uint64) {
	h := hashKey(s.seed, key)
	return &s.shards[h>>(64-shardBits)], h
}

func (s *shardedMap[V]) accept(string) keyVerdict { return keyOK }

func (s *shardedMap[V]) get(key string) (V, bool) {
	sh, h := s.shardOf(key)
	sh.mu.RLock()
	v, ok := sh.m.get(h, key)
	sh.mu.RUnlock()
	return v, ok
}

func (s *shardedMap[V]) set(key string, v V) {
	sh, h := s.shardOf(key)
	sh.mu.Lock()
	added := sh.m.set(h, key, v)
	sh.mu.Unlock()
	if added {
		s.count.Add(1)
	}
}

func (s *shardedMap[V]) remove(key string) (V, bool) {
	sh, h := s.shardOf(key)
	sh.mu.Lock()
	old, ok := sh.m.remove(h, key)
	sh.mu.Unlock()
	if ok {
		s.count.Add(-1)
	}
	return old, ok
}

// update runs fn on key's shard under its write lock; fn returns the change
// in the number of keys it made.
func (s *shardedMap[V]) update(key string, fn func(m *compactMap[V], h uint64) int) {
	sh, h := s.shardOf(key)
	sh.mu.Lock()
	delta := fn(&sh.m, h)
	sh.mu.Unlock()
	if delta != 0 {
		s.count.Add(int64(delta))
	}
}

// view runs fn on key's shard under its read lock.
func (s *shardedMap[V]) view(key string, fn func(m *compactMap[V], h uint64)) {
	sh, h := s.shardOf(key)
	sh.mu.RLock()
	fn(&sh.m, h)
	sh.mu.RUnlock()
}

func (s *shardedMap[V]) len() int { return int(s.count.Load()) }

// reserve spreads the expected records over the shards' indexes. The hint
// is capped: it counts records, not keys, and a log of many updates per key
// would otherwise reserve far more than it needs until trim.
func (s *shardedMap[V]) reserve(n int) {
	n = perShard(min(n, maxReserve))
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.m.reserve(n)
		sh.mu.Unlock()
	}
}

// perShard is how many of n keys to reserve room for in each shard. Keys
// spread over the shards binomially, so a shard given an even share would
// often receive a little more and double its index during the very load
// reserve is for: four standard deviations more covers every shard of
// nearly every load, at a few percent more index.
func perShard(n int) int {
	mean := n / shardCount
	if mean == 0 {
		return 0
	}
	return mean + 4*int(math.Sqrt(float64(mean))) + 8
}

// maxReserve caps the records reserve plans for (about 80 MB of index).
const maxReserve = 16 << 20

// trim releases spare capacity after catch-up, one shard at a time.
func (s *shardedMap[V]) trim() {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.m.trim()
		sh.mu.Unlock()
	}
}

func (s *shardedMap[V]) snapshot() map[string]V {
	var out map[string]V
	s.frozen(func(n int, each func(func(*cell[V]))) {
		out = make(map[string]V, n)
		each(func(c *cell[V]) { out[c.key()] = c.val })
	})
	return out
}

// frozen holds every shard's read lock while fn runs, giving it the number
// of keys and a way to visit them. The reader updates one shard at a time,
// so what fn sees is a state the table really was in.
func (s *shardedMap[V]) frozen(fn func(n int, each func(func(*cell[V])))) {
	for i := range s.shards {
		s.shards[i].mu.RLock()
	}
	defer func() {
		for i := range s.shards {
			s.shards[i].mu.RUnlock()
		}
	}()
	n := 0
	for i := range s.shards {
		n += s.shards[i].m.len()
	}
	fn(n, func(visit func(*cell[V])) {
		for i := range s.shards {
			cells := s.shards[i].m.entries
			for j := range cells {
				visit(&cells[j])
			}
		}
	})
}

func (s *shardedMap[V]) chunks(fn func([]entry[V]) bool) {
	var buf []entry[V]
	s.cellChunks(func(part []cell[V]) bool {
		buf = buf[:0]
		for i := range part {
			buf = append(buf, entry[V]{part[i].key(), part[i].val})
		}
		return fn(buf)
	})
}

// cellChunks calls fn with a copy of each non-empty shard's cells, taken
// under its read lock and used after it is released.
func (s *shardedMap[V]) cellChunks(fn func([]cell[V]) bool) {
	var buf []cell[V]
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		buf = append(buf[:0], sh.m.entries...)
		sh.mu.RUnlock()
		if len(buf) > 0 && !fn(buf) {
			return
		}
	}
}
