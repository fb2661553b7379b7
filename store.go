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
	s.update(key, func(m map[string]V) { replace(m, key, v) })
}

// replace stores v under key and makes key the map's copy of the key. A Go
// map keeps the first key string it was given; that string aliases the
// record it came from, so keeping it would pin a stale record (and, on some
// transports, its whole fetch buffer) for as long as the key lives.
func replace[V any](m map[string]V, key string, v V) {
	before := len(m)
	m[key] = v
	if len(m) == before {
		delete(m, key)
		m[key] = v
	}
}

// update runs fn on key's shard under its write lock, keeping the count of
// keys in step with what fn did.
func (s *shardedMap[V]) update(key string, fn func(m map[string]V)) {
	sh := s.shardOf(key)
	sh.mu.Lock()
	before := len(sh.m)
	fn(sh.m)
	delta := len(sh.m) - before
	sh.mu.Unlock()
	if delta != 0 {
		s.count.Add(int64(delta))
	}
}

// view runs fn on key's shard under its read lock.
func (s *shardedMap[V]) view(key string, fn func(m map[string]V)) {
	sh := s.shardOf(key)
	sh.mu.RLock()
	fn(sh.m)
	sh.mu.RUnlock()
}

func (s *shardedMap[V]) remove(key string) (old V, ok bool) {
	s.update(key, func(m map[string]V) {
		if old, ok = m[key]; ok {
			delete(m, key)
		}
	})
	return old, ok
}

func (s *shardedMap[V]) len() int { return int(s.count.Load()) }

func (s *shardedMap[V]) snapshot() map[string]V {
	var out map[string]V
	s.frozen(func(n int, each func(func(string, V))) {
		out = make(map[string]V, n)
		each(func(k string, v V) { out[k] = v })
	})
	return out
}

// frozen holds every shard's read lock while fn runs, giving it the number
// of keys and a way to visit them. The reader updates one shard at a time,
// so what fn sees is a state the table really was in.
func (s *shardedMap[V]) frozen(fn func(n int, each func(func(string, V)))) {
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
		n += len(s.shards[i].m)
	}
	fn(n, func(visit func(string, V)) {
		for i := range s.shards {
			for k, v := range s.shards[i].m {
				visit(k, v)
			}
		}
	})
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
