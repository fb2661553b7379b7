package ktables

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// store is where a table keeps its entries. The flat table uses shardedMap;
// the grouped table a nested index. The reader goroutine is the only writer;
// any goroutine may read.
type store[V any] interface {
	// accept tells whether key belongs in the store; rejected keys are
	// counted by the reader and skipped before their value is decoded.
	accept(key string) keyVerdict
	get(key string) (V, bool)
	set(key string, v V)
	// remove deletes key and returns the value it had.
	remove(key string) (V, bool)
	len() int
	// snapshot copies every entry at one point in time.
	snapshot() map[string]V
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

type entry[V any] struct {
	key string
	val V
}

// shardCount spreads readers over independent locks so parallel Gets scale
// with cores; a power of two for a cheap modulo.
const shardCount = 64

// shardedMap is a map split into shards, each behind its own RWMutex.
type shardedMap[V any] struct {
	seed   maphash.Seed
	count  atomic.Int64
	shards [shardCount]shard[V]
}

type shard[V any] struct {
	mu sync.RWMutex
	m  map[string]V
	_  [40]byte // keep neighbouring shards' locks off one cache line
}

func newShardedMap[V any]() *shardedMap[V] {
	s := &shardedMap[V]{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = make(map[string]V)
	}
	return s
}

func (s *shardedMap[V]) shardOf(key string) *shard[V] {
	return &s.shards[maphash.String(s.seed, key)&(shardCount-1)]
}

func (s *shardedMap[V]) accept(string) keyVerdict { return keyOK }

func (s *shardedMap[V]) get(key string) (V, bool) {
	sh := s.shardOf(key)
	sh.mu.RLock()
	v, ok := sh.m[key]
	sh.mu.RUnlock()
	return v, ok
}

func (s *shardedMap[V]) set(key string, v V) {
	sh := s.shardOf(key)
	sh.mu.Lock()
	before := len(sh.m)
	sh.m[key] = v
	grew := len(sh.m) != before
	sh.mu.Unlock()
	if grew {
		s.count.Add(1)
	}
}

func (s *shardedMap[V]) remove(key string) (V, bool) {
	sh := s.shardOf(key)
	sh.mu.Lock()
	v, ok := sh.m[key]
	if ok {
		delete(sh.m, key)
	}
	sh.mu.Unlock()
	if ok {
		s.count.Add(-1)
	}
	return v, ok
}

func (s *shardedMap[V]) len() int { return int(s.count.Load()) }

// snapshot holds every shard's read lock at once: the reader updates one
// shard at a time, so the copy is a state the table really was in.
func (s *shardedMap[V]) snapshot() map[string]V {
	for i := range s.shards {
		s.shards[i].mu.RLock()
	}
	n := 0
	for i := range s.shards {
		n += len(s.shards[i].m)
	}
	out := make(map[string]V, n)
	for i := range s.shards {
		for k, v := range s.shards[i].m {
			out[k] = v
		}
		s.shards[i].mu.RUnlock()
	}
	return out
}

func (s *shardedMap[V]) chunks(fn func([]entry[V]) bool) {
	var buf []entry[V]
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		buf = buf[:0]
		for k, v := range sh.m {
			buf = append(buf, entry[V]{k, v})
		}
		sh.mu.RUnlock()
		if len(buf) > 0 && !fn(buf) {
			return
		}
	}
}
