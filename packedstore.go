package ktables

import "unsafe"

// packedMap is the flat store for codecs whose value is the record bytes
// themselves (Bytes, String). Each entry's key and value share one
// allocation, key first, and its cell holds the key pointer, the key length
// and the value length: 16 bytes, against 40 for a string key and a slice
// value. The value is found right after the key (ADR 15).
type packedMap struct {
	*shardedMap[uint32]
}

func newPackedMap() packedMap { return packedMap{newShardedMap[uint32]()} }

// copiesValues marks a store that copies values itself: the reader need not
// copy them before decoding.
func (packedMap) copiesValues() bool { return true }

// valueOf returns the value bytes of c, which follow its key.
func valueOf(c *cell[uint32]) []byte {
	if c.val == 0 {
		// Not a pointer past the key: that could point past the allocation.
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(c.kp), c.klen)), c.val)
}

// getBytes is the read path: one hash, one shard read lock, one probe. It
// is written out rather than through view, whose closure call costs a few
// nanoseconds on every Get.
func (p packedMap) getBytes(key string) (v []byte, ok bool) {
	sh, h := p.shardOf(key)
	sh.mu.RLock()
	if i := sh.m.find(h, key); i >= 0 {
		v, ok = valueOf(sh.m.cellAt(i)), true
	}
	sh.mu.RUnlock()
	return v, ok
}

// setBytes copies key and v into one new allocation, outside the lock, and
// points key's cell at it; the old allocation becomes garbage.
func (p packedMap) setBytes(key string, v []byte) {
	var kp *byte
	if n := len(key) + len(v); n > 0 {
		kv := make([]byte, n)
		copy(kv, key)
		copy(kv[len(key):], v)
		kp = &kv[0]
	}
	p.update(key, func(m *compactMap[uint32], h uint64) int {
		if i := m.find(h, key); i >= 0 {
			c := m.cellAt(i)
			c.kp, c.val = kp, uint32(len(v))
			return 0
		}
		m.insert(h, kp, len(key), uint32(len(v)))
		return 1
	})
}

func (p packedMap) removeBytes(key string) (old []byte, ok bool) {
	p.update(key, func(m *compactMap[uint32], h uint64) int {
		i := m.find(h, key)
		if i < 0 {
			return 0
		}
		old, ok = valueOf(m.cellAt(i)), true
		m.remove(h, key)
		return -1
	})
	return old, ok
}

func (p packedMap) snapshotBytes(each func(key string, v []byte)) {
	p.frozen(func(_ int, cells func(func(*cell[uint32]))) {
		cells(func(c *cell[uint32]) { each(c.key(), valueOf(c)) })
	})
}

// bytesStore serves the Bytes codec.
type bytesStore struct{ packedMap }

var _ store[[]byte] = bytesStore{}

func (s bytesStore) get(key string) ([]byte, bool)    { return s.getBytes(key) }
func (s bytesStore) set(key string, v []byte)         { s.setBytes(key, v) }
func (s bytesStore) remove(key string) ([]byte, bool) { return s.removeBytes(key) }

func (s bytesStore) snapshot() map[string][]byte {
	out := make(map[string][]byte, s.len())
	s.snapshotBytes(func(k string, v []byte) { out[k] = v })
	return out
}

func (s bytesStore) chunks(fn func([]entry[[]byte]) bool) {
	var buf []entry[[]byte]
	s.cellChunks(func(part []cell[uint32]) bool {
		buf = buf[:0]
		for i := range part {
			buf = append(buf, entry[[]byte]{part[i].key(), valueOf(&part[i])})
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

func (s stringStore) snapshot() map[string]string {
	out := make(map[string]string, s.len())
	s.snapshotBytes(func(k string, v []byte) { out[k] = bytesToString(v) })
	return out
}

func (s stringStore) chunks(fn func([]entry[string]) bool) {
	var buf []entry[string]
	s.cellChunks(func(part []cell[uint32]) bool {
		buf = buf[:0]
		for i := range part {
			buf = append(buf, entry[string]{part[i].key(), bytesToString(valueOf(&part[i]))})
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
