package ktables

import (
	"hash/maphash"
	"strings"
	"unsafe"
)

// compactMap is an open-addressing hash map from string keys to V, built for
// memory per entry: cells live densely in one slice (a key pointer, a key
// length and a value, nothing else), and an index of uint32 positions points
// into it with linear probing. A Go map spends about 100 bytes per entry at a
// million string keys with slice values; this one spends the cell plus about
// 6 bytes of index (ADR 6).
//
// The map owns its keys: set copies a new key, so a key never aliases the
// record it came from (ADR 15).
//
// Callers pass each key's 64-bit hash (hashKey with the map's seed), so a
// sharded owner hashes a key once for both the shard and the slot. The index
// size need not be a power of two: slots come from the hash's low 32 bits by
// multiply-shift, so reserve and trim can size it to fit exactly.
//
// It is not safe for concurrent use; shardedMap locks around it.
type compactMap[V any] struct {
	seed    maphash.Seed
	index   []uint32 // 0: empty; else (position in entries + 1) << 8 | tag
	entries []cell[V]
}

// cell is one entry. The key is a pointer and a 32-bit length rather than a
// string header: V packs into the spare half word when it is 4 bytes (the
// packed store's value length), which makes that cell 16 bytes. Kafka
// bounds a record key below 2 GiB, so 32 bits always suffice.
type cell[V any] struct {
	kp   *byte
	klen uint32
	val  V
}

func (c *cell[V]) key() string { return unsafe.String(c.kp, c.klen) }

// An index slot packs a 24-bit entry position with an 8-bit tag taken from
// the key's hash, so a probe skips 255 of 256 non-matching slots without
// touching the entry or its key bytes (each a likely cache miss).
const (
	tagBits = 8
	tagMask = 1<<tagBits - 1
	// maxEntries bounds one map: 16.7M keys per shard, over a billion per
	// table, far beyond reference data held in memory.
	maxEntries = 1<<(32-tagBits) - 1
)

func tagOf(h uint64) uint32 { return uint32(h>>32) & tagMask }

func slotOf(pos int, h uint64) uint32 { return uint32(pos+1)<<tagBits | tagOf(h) }

func posOf(slot uint32) int { return int(slot>>tagBits) - 1 }

// Growth happens above a load of 85%: linear probing stays short. The
// index doubles when it grows (each growth rehashes every key); a table sized
// by reserve at open and trimmed after catch-up spends about 5 bytes of index
// per entry.
const (
	maxLoadNum = 17
	maxLoadDen = 20
	minIndex   = 8
)

func newCompactMap[V any](seed maphash.Seed) *compactMap[V] {
	return &compactMap[V]{seed: seed}
}

func hashKey(seed maphash.Seed, key string) uint64 { return maphash.String(seed, key) }

func (m *compactMap[V]) len() int { return len(m.entries) }

// home is the first slot to probe for hash h.
func (m *compactMap[V]) home(h uint64) int {
	return int((h & 0xffffffff) * uint64(len(m.index)) >> 32)
}

func (m *compactMap[V]) next(i int) int {
	if i++; i == len(m.index) {
		return 0
	}
	return i
}

// find returns the index slot holding key, or -1.
func (m *compactMap[V]) find(h uint64, key string) int {
	if len(m.index) == 0 {
		return -1
	}
	tag := tagOf(h)
	for i := m.home(h); ; i = m.next(i) {
		s := m.index[i]
		if s == 0 {
			return -1
		}
		if s&tagMask == tag && m.entries[posOf(s)].key() == key {
			return i
		}
	}
}

func (m *compactMap[V]) get(h uint64, key string) (V, bool) {
	if i := m.find(h, key); i >= 0 {
		return m.entries[posOf(m.index[i])].val, true
	}
	var zero V
	return zero, false
}

// cellAt returns the cell index slot i points to.
func (m *compactMap[V]) cellAt(i int) *cell[V] { return &m.entries[posOf(m.index[i])] }

// set stores v under key and reports whether the key is new. key may alias
// transient bytes: a new key is copied, an existing one keeps the copy the
// map already holds (ADR 15).
func (m *compactMap[V]) set(h uint64, key string, v V) bool {
	if i := m.find(h, key); i >= 0 {
		m.cellAt(i).val = v
		return false
	}
	key = strings.Clone(key)
	m.insert(h, unsafe.StringData(key), len(key), v)
	return true
}

// insert adds a key known to be absent, taking kp[:klen] as the key bytes
// without copying them: the caller hands over memory nobody modifies.
func (m *compactMap[V]) insert(h uint64, kp *byte, klen int, v V) {
	if len(m.entries) >= maxEntries {
		panic("ktables: more than 16.7M keys in one shard of a table")
	}
	if (len(m.entries)+1)*maxLoadDen > len(m.index)*maxLoadNum {
		m.grow()
	}
	if len(m.entries) == cap(m.entries) {
		// Double rather than let append grow large slices by a quarter:
		// a bulk load would copy every entry about four times. The spare
		// room goes at trim, once catch-up ends.
		grown := make([]cell[V], len(m.entries), max(minIndex, 2*cap(m.entries)))
		copy(grown, m.entries)
		m.entries = grown
	}
	m.entries = append(m.entries, cell[V]{kp: kp, klen: uint32(klen), val: v})
	m.place(h, len(m.entries)-1)
}

// place puts entry position pos with hash h into the first free slot.
func (m *compactMap[V]) place(h uint64, pos int) {
	i := m.home(h)
	for m.index[i] != 0 {
		i = m.next(i)
	}
	m.index[i] = slotOf(pos, h)
}

func (m *compactMap[V]) grow() {
	m.resize(max(minIndex, 2*len(m.index)))
}

// resize rebuilds the index with n slots, rehashing every entry.
func (m *compactMap[V]) resize(n int) {
	m.index = make([]uint32, n)
	for p := range m.entries {
		m.place(hashKey(m.seed, m.entries[p].key()), p)
	}
}

// slotsFor is the index size that holds n entries below the growth load.
func slotsFor(n int) int {
	return max(minIndex, (n*maxLoadDen+maxLoadNum-1)/maxLoadNum+1)
}

// reserve sizes the index for n entries up front, so a bulk load of n keys
// never rehashes: growing re-reads every key held, a likely cache miss each.
func (m *compactMap[V]) reserve(n int) {
	if want := slotsFor(n); want > len(m.index) {
		m.resize(want)
	}
}

// trim releases spare room after a bulk load: the entries' spare capacity,
// and an index far larger than the keys need (reserve sized it for every
// record replayed, which overshoots when the log holds many updates per
// key).
func (m *compactMap[V]) trim() {
	if cap(m.entries)-len(m.entries) > 16 {
		m.entries = append([]cell[V](nil), m.entries...)
	}
	if want := slotsFor(len(m.entries)); len(m.index) > 2*want {
		m.resize(want)
	}
}

// remove deletes key and returns its value. The last entry moves into the
// hole so entries stay dense, and the index closes the gap by backward
// shifting, so no tombstones accumulate.
func (m *compactMap[V]) remove(h uint64, key string) (V, bool) {
	i := m.find(h, key)
	if i < 0 {
		var zero V
		return zero, false
	}
	pos := posOf(m.index[i])
	old := m.entries[pos].val
	m.deleteSlot(i)
	last := len(m.entries) - 1
	if pos != last {
		moved := m.entries[last]
		m.entries[pos] = moved
		mk := moved.key()
		mh := hashKey(m.seed, mk)
		m.index[m.find(mh, mk)] = slotOf(pos, mh)
	}
	var zero cell[V]
	m.entries[last] = zero // release the key and value
	m.entries = m.entries[:last]
	if cap(m.entries) > 64 && len(m.entries) < cap(m.entries)/4 {
		m.entries = append([]cell[V](nil), m.entries...)
	}
	return old, true
}

// deleteSlot empties index slot i and shifts later members of its probe
// run back, so lookups never stop early at the hole.
func (m *compactMap[V]) deleteSlot(i int) {
	hole := i
	for j := m.next(i); m.index[j] != 0; j = m.next(j) {
		home := m.home(hashKey(m.seed, m.entries[posOf(m.index[j])].key()))
		if movesBack(hole, j, home) {
			m.index[hole] = m.index[j]
			hole = j
		}
	}
	m.index[hole] = 0
}

// each visits every entry until fn returns false.
func (m *compactMap[V]) each(fn func(key string, v V) bool) {
	for i := range m.entries {
		if !fn(m.entries[i].key(), m.entries[i].val) {
			return
		}
	}
}

// movesBack reports whether the entry in slot j, whose home slot is home,
// moves back into the hole during a backward-shift delete: unless its home
// lies cyclically in (hole, j], it is already as close to home as it can be.
func movesBack(hole, j, home int) bool {
	return (j > hole && (home <= hole || home > j)) || (j < hole && home <= hole && home > j)
}
