package ktables

import (
	"sync/atomic"
	"unsafe"
)

// packedMap is the flat store for codecs whose value is the record bytes
// themselves (Bytes, String). Each entry's key and value share one
// allocation behind its lengths (a kv), and a table slot is the one pointer
// to it and a tag: about 15 bytes of slots and 8 of header per key, against
// 40 for a string key and a slice value alone (ADR 15). Reads take no lock (ADR 16, packedshard.go).
type packedMap struct{ *packedShards }

// seed is read by every Get and count written by every insert: shards lie
// between them, so they never share a cache line.
type packedShards struct {
	seed   packedSeed
	shards [shardCount]pshard
	count  atomic.Int64
	log    snapLog // what Snapshot's cache must patch (snapcache.go)
	cache  snapCache
}

func newPackedMap() packedMap {
	p := &packedShards{seed: newPackedSeed()}
	for i := range p.shards {
		p.shards[i].tab.Store(newPtable(0))
	}
	return packedMap{p}
}

// copiesValues marks a store that copies values itself: the reader need not
// copy them before decoding.
func (packedMap) copiesValues() bool { return true }

// shardOf hashes key once: the top bits choose the shard, the low 32 bits
// the slot inside it.
func (p packedMap) shardOf(key string) (*pshard, uint64) {
	h := p.seed.hash(key)
	return &p.shards[h>>(64-shardBits)], h
}

func (p packedMap) accept(string) keyVerdict { return keyOK }

// packedMapOf hands Table the store behind bytesStore and stringStore, for
// packedGet.
func (p packedMap) packedMapOf() packedMap { return p }

// packedGet is Get on a packed store without the store interface. V is
// []byte or string: newFlatStore builds a packed store for no other value
// type. A string's header (data, length) is the first two words of a
// slice's, so one reinterpretation serves both.
func packedGet[V any](p packedMap, key string) (V, bool) {
	b, ok := p.getBytes(key)
	return *(*V)(unsafe.Pointer(&b)), ok
}

// packedValue reports whether V is a type packedGet may return.
func packedValue[V any]() bool {
	switch any(*new(V)).(type) {
	case []byte, string:
		return true
	}
	return false
}

func (p packedMap) len() int { return int(p.count.Load()) }

// getBytes is the read path: one hash, one lock-free probe.
//
// The first try is written out here, hash, probe and key comparison in one
// function, with no call in the probe loop for any key length (keyHead):
// calls are a measurable share of a lookup that takes a few tens of
// nanoseconds. The loop is written twice, for keys of 8 bytes or more and
// for shorter ones, so neither carries the other's work. A try that met a
// writer mid-remove goes to pshard.get, as does a long key whose head
// matched a candidate's but whose middle did not, which needs the probe to
// go on past that candidate.
func (p packedMap) getBytes(key string) ([]byte, bool) {
	h := p.seed.hash(key)
	sh := &p.shards[h>>(64-shardBits)]
	n := len(key)
	var e *kv
	seq := sh.seq.Load()
	t := sh.tab.Load()
	if slots := len(t.ptrs); slots > 0 {
		tag := tagOf(h)
		i := homeSlot(h, slots)
		if n >= 8 {
			head := longHead(key)
			for range slots {
				c := (*kv)(atomic.LoadPointer(&t.ptrs[i]))
				if c == nil {
					break
				}
				if atomic.LoadUint32(&t.tags[i>>2])>>tagShift(i)&tagMask == tag && head.long(c, n) {
					e = c
					break
				}
				if i++; i == slots {
					i = 0
				}
			}
			if n > 16 && e != nil && !restMatches(e, key) {
				seq = 1 // go to pshard.get
			}
		} else {
			head := shortHead(shortKey(key), n)
			for range slots {
				c := (*kv)(atomic.LoadPointer(&t.ptrs[i]))
				if c == nil {
					break
				}
				if atomic.LoadUint32(&t.tags[i>>2])>>tagShift(i)&tagMask == tag && head.short(c, n) {
					e = c
					break
				}
				if i++; i == slots {
					i = 0
				}
			}
		}
	}
	if seq&1 != 0 || sh.seq.Load() != seq {
		e = sh.get(h, key)
	}
	if e != nil {
		return e.value(), true
	}
	return nil, false
}

// setBytes copies key and v into one new allocation, outside the lock, and
// points key's cell at it; the old allocation becomes garbage.
func (p packedMap) setBytes(key string, v []byte) {
	e := newKV(key, v)
	sh, h := p.shardOf(key)
	added, over := sh.set(p.seed, h, e, &p.log)
	if added {
		p.count.Add(1)
	}
	if over {
		p.abandon()
	}
}

func (p packedMap) removeBytes(key string) ([]byte, bool) {
	sh, h := p.shardOf(key)
	e, over := sh.remove(p.seed, h, key, &p.log)
	if over {
		p.abandon()
	}
	if e == nil {
		return nil, false
	}
	p.count.Add(-1)
	return e.value(), true
}

// reserve spreads the expected records over the shards' tables, capped and
// shared out as shardedMap.reserve does.
func (p packedMap) reserve(n int) {
	n = perShard(min(n, maxReserve))
	for i := range p.shards {
		p.shards[i].reserve(p.seed, n)
	}
}

func (p packedMap) trim() {
	for i := range p.shards {
		p.shards[i].trim(p.seed)
	}
}

// kvChunks calls fn with a copy of each non-empty shard's entries, taken
// under its shared lock and used after it is released.
func (p packedMap) kvChunks(fn func([]*kv) bool) {
	var buf []*kv
	for i := range p.shards {
		sh := &p.shards[i]
		buf = buf[:0]
		sh.mu.RLock()
		sh.each(func(e *kv) { buf = append(buf, e) })
		sh.mu.RUnlock()
		if len(buf) > 0 && !fn(buf) {
			return
		}
	}
}

// bytesStore serves the Bytes codec.
type bytesStore struct{ packedMap }

var _ store[[]byte] = bytesStore{}

func (s bytesStore) get(key string) ([]byte, bool)    { return s.getBytes(key) }
func (s bytesStore) set(key string, v []byte)         { s.setBytes(key, v) }
func (s bytesStore) remove(key string) ([]byte, bool) { return s.removeBytes(key) }

func (s bytesStore) snapshot() map[string][]byte { return cachedSnapshot(s.packedMap, (*kv).value) }

func (s bytesStore) chunks(fn func([]entry[[]byte]) bool) {
	var buf []entry[[]byte]
	s.kvChunks(func(part []*kv) bool {
		buf = buf[:0]
		for _, e := range part {
			buf = append(buf, entry[[]byte]{e.key(), e.value()})
		}
		return fn(buf)
	})
}

// stringStore serves the String codec: the value string aliases the
// entry's allocation, which nothing modifies.
type stringStore struct{ packedMap }

var _ store[string] = stringStore{}

func bytesToString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func (s stringStore) get(key string) (string, bool) {
	v, ok := s.getBytes(key)
	return bytesToString(v), ok
}

func (s stringStore) set(key string, v string) {
	s.setBytes(key, unsafe.Slice(unsafe.StringData(v), len(v)))
}

func (s stringStore) remove(key string) (string, bool) {
	v, ok := s.removeBytes(key)
	return bytesToString(v), ok
}

func (s stringStore) snapshot() map[string]string { return cachedSnapshot(s.packedMap, kvString) }

func kvString(e *kv) string { return bytesToString(e.value()) }

func (s stringStore) chunks(fn func([]entry[string]) bool) {
	var buf []entry[string]
	s.kvChunks(func(part []*kv) bool {
		buf = buf[:0]
		for _, e := range part {
			buf = append(buf, entry[string]{e.key(), bytesToString(e.value())})
		}
		return fn(buf)
	})
}

// newFlatStore picks the flat store for codec: packed when the codec's
// values are the record bytes, a sharded map of decoded values otherwise.
func newFlatStore[V any](codec Codec[V]) store[V] {
	var st any
	switch any(codec).(type) {
	case bytesCodec:
		st = bytesStore{newPackedMap()}
	case stringCodec:
		st = stringStore{newPackedMap()}
	}
	if s, ok := st.(store[V]); ok {
		return s
	}
	return newShardedMap[V]()
}

// keepsBytes reports whether codec's values alias the bytes they were
// decoded from. The table then copies those bytes before decoding, unless
// the store copies values itself, so no value pins a client's fetch buffer.
func keepsBytes(codec any) bool {
	switch codec.(type) {
	case bytesCodec, stringCodec:
		return true
	}
	return false
}
