package ktables

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// The packed store's shards are read without locks (ADR 16). A Get is on
// the path of every request a service serves, and a read lock, even an
// uncontended one, is an atomic write to a word every reader shares: under
// parallel readers that cache line moves between cores on every call. Here
// a read only loads words, so readers never contend with each other.
//
// A shard's state is a ptable published through an atomic pointer. Its
// slots (entry pointers and tags) are read and written atomically; what a
// slot points to, a kv, is immutable once published. The writer changes a
// table in place only in ways a concurrent probe cannot be misled by
// (storing a new kv for a key, filling an empty slot), except for a remove,
// which shifts a probe run back: it runs between two increments of the
// shard's sequence number, and a read that saw the number change (or odd)
// runs again. A table that needs more room is rebuilt aside and published
// whole; readers still holding the old one see the state it had.

// kv is one entry: a header and then the key and value bytes, in a single
// allocation that nothing modifies once a cell points to it. Keeping the
// lengths inside the allocation, not beside the pointer, is what lets a
// reader load an entry with one atomic load and never pair a pointer with
// another entry's length.
type kv struct {
	klen, vlen uint32
}

const kvHeader = int(unsafe.Sizeof(kv{}))

// newKV copies key and v into one new allocation.
func newKV(key string, v []byte) *kv {
	n := kvHeader + len(key) + len(v)
	// Go's tiny allocator may put a block under 16 bytes at any offset;
	// the header wants its alignment.
	b := make([]byte, max(n, 16))
	p := (*kv)(unsafe.Pointer(&b[0]))
	p.klen, p.vlen = uint32(len(key)), uint32(len(v))
	copy(b[kvHeader:], key)
	copy(b[kvHeader+len(key):], v)
	return p
}

func (p *kv) data() unsafe.Pointer { return unsafe.Add(unsafe.Pointer(p), kvHeader) }

func (p *kv) key() string { return unsafe.String((*byte)(p.data()), p.klen) }

// value returns the value bytes, never nil: a present key with an empty
// value is not a missing one.
func (p *kv) value() []byte {
	if p.vlen == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Add(p.data(), p.klen)), p.vlen)
}

// ptable is one shard's open-addressing table, probed linearly. A slot
// holds the entry pointer itself, so a probe's loads are the slot, its tag
// (independent of each other, so they overlap) and, on a tag match, the
// entry: one dependent miss fewer than an index of positions into a cell
// array. Slot emptiness is the pointer's; the 8-bit tag from the key's hash
// skips 255 of 256 foreign entries without touching them.
type ptable struct {
	ptrs []unsafe.Pointer // atomic words once published: *kv or nil
	tags []uint32         // atomic words once published: four slots' tags each
	n    int              // entries; only the writer, under the shard's lock, uses it
}

func newPtable(slots int) *ptable {
	return &ptable{ptrs: make([]unsafe.Pointer, slots), tags: make([]uint32, (slots+3)/4)}
}

func homeSlot(h uint64, slots int) int { return int((h & 0xffffffff) * uint64(slots) >> 32) }

func tagShift(i int) uint32 { return uint32(i&3) * 8 }

// lookup probes for key. It is safe under a concurrent writer: every word
// it reads is loaded atomically and the probe ends after one pass. What it
// returns is right unless the shard's sequence number moved meanwhile.
func (t *ptable) lookup(h uint64, key string) *kv {
	slots := len(t.ptrs)
	if slots == 0 {
		return nil
	}
	tag := tagOf(h)
	i := homeSlot(h, slots)
	for range slots {
		p := (*kv)(atomic.LoadPointer(&t.ptrs[i]))
		if p == nil {
			return nil
		}
		if atomic.LoadUint32(&t.tags[i>>2])>>tagShift(i)&tagMask == tag && p.hasKey(key) {
			return p
		}
		if i++; i == slots {
			i = 0
		}
	}
	return nil
}

// The methods below are the writer's: the caller holds the shard's lock,
// so plain reads see the latest state; stores are atomic because readers
// load the same words.

func (t *ptable) at(i int) *kv { return (*kv)(t.ptrs[i]) }

// find returns the slot holding key, or -1.
func (t *ptable) find(h uint64, key string) int {
	slots := len(t.ptrs)
	if slots == 0 {
		return -1
	}
	tag := tagOf(h)
	for i := homeSlot(h, slots); ; {
		p := t.at(i)
		if p == nil {
			return -1
		}
		if t.tags[i>>2]>>tagShift(i)&tagMask == tag && p.hasKey(key) {
			return i
		}
		if i++; i == slots {
			i = 0
		}
	}
}

// fill stores entry p with tag into slot i: the tag first, so a reader
// that sees the pointer sees its tag.
func (t *ptable) fill(i int, tag uint32, p unsafe.Pointer) {
	w, sh := &t.tags[i>>2], tagShift(i)
	atomic.StoreUint32(w, *w&^(tagMask<<sh)|tag<<sh)
	atomic.StorePointer(&t.ptrs[i], p)
}

// place puts p, of hash h, into the first free slot of its probe run.
func (t *ptable) place(h uint64, p *kv) {
	slots := len(t.ptrs)
	i := homeSlot(h, slots)
	for t.ptrs[i] != nil {
		if i++; i == slots {
			i = 0
		}
	}
	t.fill(i, tagOf(h), unsafe.Pointer(p))
	t.n++
}

// full reports whether one more entry would pass the growth load.
func (t *ptable) full() bool { return (t.n+1)*pMaxLoadDen > len(t.ptrs)*pMaxLoadNum }

// rebuilt returns a new table with the same entries in slots slots, not
// yet published.
func (t *ptable) rebuilt(seed packedSeed, slots int) *ptable {
	nt := newPtable(slots)
	for _, p := range t.ptrs {
		if p != nil {
			nt.place(seed.hash((*kv)(p).key()), (*kv)(p))
		}
	}
	return nt
}

// deleteSlot empties slot i and shifts later members of its probe run
// back (as compactMap.deleteSlot does), so no tombstones accumulate.
func (t *ptable) deleteSlot(seed packedSeed, i int) {
	slots := len(t.ptrs)
	next := func(j int) int {
		if j++; j == slots {
			return 0
		}
		return j
	}
	hole := i
	for j := next(i); t.ptrs[j] != nil; j = next(j) {
		home := homeSlot(seed.hash(t.at(j).key()), slots)
		if movesBack(hole, j, home) {
			t.fill(hole, t.tags[j>>2]>>tagShift(j)&tagMask, t.ptrs[j])
			hole = j
		}
	}
	atomic.StorePointer(&t.ptrs[hole], nil)
	t.n--
}

// The packed table is kept sparser than compactMap's index (ADR 16): a Get
// probes it on every call, and at the 85% load compactMap allows a hit
// takes about four probes against under two at 60%. It grows past 75% and
// is sized for 60% by reserve and trim: 15 bytes of slots per key.
const (
	pMaxLoadNum = 3
	pMaxLoadDen = 4
)

// pSlotsFor is the table size that holds n entries at a 60% load.
func pSlotsFor(n int) int { return max(minIndex, n*5/3+1) }

// pshard is one shard of the packed store. What Get reads (seq, tab) and
// what the writer writes on every set (mu) sit on separate cache lines:
// sharing one, each set under live updates would take the line from every
// reader of the shard. seq and tab change only on a remove or a rebuild.
type pshard struct {
	pshardRead
	_  [cacheLine - unsafe.Sizeof(pshardRead{})]byte
	mu sync.RWMutex // the writer holds it; frozen views share it
	// dirty lists the keys changed since the Snapshot cache was patched,
	// while there is one (snapcache.go); written under mu.
	dirty []string
	_     [cacheLine - unsafe.Sizeof(sync.RWMutex{}) - unsafe.Sizeof([]string(nil))]byte
}

// pshardRead is what a Get loads from its shard.
type pshardRead struct {
	seq atomic.Uint32 // odd while a remove rearranges the table in place
	tab atomic.Pointer[ptable]
}

// cacheLine is the line size of the CPUs the store is tuned for (amd64,
// arm64 and most others: 64 bytes).
const cacheLine = 64

// readRetries is how often a read runs again after a writer rearranged the
// shard under it before it waits for the writer's lock instead, so a
// writer descheduled mid-change cannot make readers spin.
const readRetries = 4

func (s *pshard) get(h uint64, key string) *kv {
	for range readRetries {
		seq := s.seq.Load()
		if seq&1 != 0 {
			continue
		}
		p := s.tab.Load().lookup(h, key)
		if s.seq.Load() == seq {
			return p
		}
	}
	s.mu.RLock()
	p := s.tab.Load().lookup(h, key)
	s.mu.RUnlock()
	return p
}

// set stores p under its key and reports whether the key is new, and
// whether the Snapshot cache's log passed its limit.
func (s *pshard) set(seed packedSeed, h uint64, p *kv, log *snapLog) (added, over bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if log.on {
		over = s.record(log, p.key())
	}
	t := s.tab.Load()
	if i := t.find(h, p.key()); i >= 0 {
		atomic.StorePointer(&t.ptrs[i], unsafe.Pointer(p))
		return false, over
	}
	if t.full() {
		t = t.rebuilt(seed, max(minIndex, 2*len(t.ptrs)))
		s.tab.Store(t)
	}
	t.place(h, p)
	return true, over
}

// remove deletes key and returns its entry, and whether the Snapshot
// cache's log passed its limit.
func (s *pshard) remove(seed packedSeed, h uint64, key string, log *snapLog) (_ *kv, over bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tab.Load()
	i := t.find(h, key)
	if i < 0 {
		return nil, false
	}
	old := t.at(i)
	if log.on {
		over = s.record(log, old.key())
	}
	s.seq.Add(1)
	t.deleteSlot(seed, i)
	s.seq.Add(1)
	if len(t.ptrs) > 64 && t.n < len(t.ptrs)/8 {
		s.tab.Store(t.rebuilt(seed, pSlotsFor(t.n)))
	}
	return old, over
}

// resize publishes a table of the size slots picks for the current one,
// unless it would be past the growth load or change nothing.
func (s *pshard) resize(seed packedSeed, slots func(t *ptable) int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tab.Load()
	n := slots(t)
	if n*pMaxLoadNum < t.n*pMaxLoadDen || n == len(t.ptrs) {
		return
	}
	s.tab.Store(t.rebuilt(seed, n))
}

// reserve sizes the table for n entries up front, so a bulk load never
// rebuilds it: a rebuild re-reads every key held, a likely cache miss each.
func (s *pshard) reserve(seed packedSeed, n int) {
	s.resize(seed, func(t *ptable) int { return max(len(t.ptrs), pSlotsFor(n)) })
}

// trim releases a table far larger than its entries need (reserve sized
// it for every record replayed, which overshoots when the log holds many
// updates per key).
func (s *pshard) trim(seed packedSeed) {
	s.resize(seed, func(t *ptable) int {
		if want := pSlotsFor(t.n); len(t.ptrs) > 2*want {
			return want
		}
		return len(t.ptrs)
	})
}

// each visits the shard's entries; the caller holds the lock.
func (s *pshard) each(fn func(*kv)) {
	for _, p := range s.tab.Load().ptrs {
		if p != nil {
			fn((*kv)(p))
		}
	}
}
