package ktables

import (
	"hash/maphash"
	"strings"
	"unsafe"
)

// The remembered marks of one generation (provenance.go). During the
// catch-up of a topic of many partitions nearly every record is remembered
// for a while, so this is on the apply path of each record: it is built for
// no allocation and as few random memory accesses per record as it can.
//
// A record from its key's murmur2 partition (its home) can only have to
// give way to a record from another partition, and those are rare: keys
// misrouted by another partitioner, or written before the topic grew. So a
// generation starts as a log: marks appended in arrival order, with no
// index, which is all a well-partitioned topic ever needs. The first
// record from outside its home that must look a key up builds the
// generation's index from the log, and from then on every mark goes into
// the index (provenance.lookupHome says why a home record may skip the
// log of a generation without an index).
//
// The index finds marks by the key's 64-bit hash in a map with no pointers
// (the collector does not scan it), and each mark holds where its key's
// bytes were copied into the generation's key arena, so a hit is confirmed
// against the key itself. Two keys of one hash in one generation (rare:
// 64-bit maphash) keep the second in a plain map by key, which a lookup
// consults only when the hash matched another key: exact, whatever the
// hashes.

// keyChunk is the size of one arena chunk; a longer key gets a chunk of its
// own.
const keyChunk = 64 << 10

// markAt is a mark and where its key's bytes are in the arena.
type markAt struct {
	mark
	chunk, off, klen uint32
}

// generation is one half of the remembered marks.
type generation struct {
	log      [][]markAt        // marks in arrival order while not indexed, in chunks
	logged   int               // marks in log
	indexed  bool              // marks and collided hold every mark; log is unused
	marks    map[uint64]markAt // the index, by key hash
	collided map[string]mark   // keys whose hash another key holds in marks
	chunks   [][]byte          // key arena: appended to, never modified
	maxTs    int64             // the latest timestamp among marks
}

// logChunk is how many marks one log chunk holds: the log grows by chunks,
// never copying what it holds.
const logChunk = 4096

// newGeneration returns a generation; an index gets room for about hint
// marks: a generation usually holds about as many as the one before it,
// and growing a map from empty each time costs a rehash per doubling.
func newGeneration(hint int, indexed bool) generation {
	if indexed {
		return generation{indexed: true, marks: make(map[uint64]markAt, hint)}
	}
	return generation{}
}

// len is how many marks the generation holds (the log counts every
// version of a key).
func (g *generation) len() int { return g.logged + len(g.marks) + len(g.collided) }

// index builds the index from the log, once.
func (g *generation) index(seed maphash.Seed) {
	if g.indexed {
		return
	}
	g.indexed = true
	g.marks = make(map[uint64]markAt, g.logged)
	for _, chunk := range g.log {
		for _, at := range chunk {
			key := g.keyOf(at)
			g.putIndexed(markHash(seed, key), key, at.mark, at)
		}
	}
	g.log, g.logged = nil, 0
}

func (g *generation) keyOf(m markAt) string {
	if m.klen == 0 {
		return ""
	}
	c := g.chunks[m.chunk]
	return unsafe.String(unsafe.SliceData(c[m.off:]), m.klen)
}

// get finds key's mark in an indexed generation.
func (g *generation) get(h uint64, key string) (mark, bool) {
	m, ok := g.marks[h]
	if !ok {
		return mark{}, false
	}
	if g.keyOf(m) == key {
		return m.mark, true
	}
	c, ok := g.collided[key]
	return c, ok
}

// put remembers m for key, copying key (which aliases the record's bytes:
// a mark must not pin the fetch buffer, ADR 7) unless the generation
// already holds it. h is only read once the generation is indexed.
func (g *generation) put(h uint64, key string, m mark) {
	g.maxTs = max(g.maxTs, m.ts)
	if !g.indexed {
		at := g.copyKey(key)
		at.mark = m
		n := len(g.log)
		if n == 0 || len(g.log[n-1]) == logChunk {
			g.log = append(g.log, make([]markAt, 0, logChunk))
			n++
		}
		g.log[n-1] = append(g.log[n-1], at)
		g.logged++
		return
	}
	g.putIndexed(h, key, m, markAt{})
}

// putIndexed sets key's mark in the index; stored is where key already is
// in the arena, or the zero markAt to copy it there when it is new.
func (g *generation) putIndexed(h uint64, key string, m mark, stored markAt) {
	if g.marks == nil {
		g.marks = make(map[uint64]markAt)
	}
	at, ok := g.marks[h]
	switch {
	case !ok:
		at = stored
		if stored.klen == 0 && key != "" {
			at = g.copyKey(key)
		}
	case g.keyOf(at) != key:
		if g.collided == nil {
			g.collided = make(map[string]mark)
		}
		if _, had := g.collided[key]; had {
			g.collided[key] = m
		} else {
			g.collided[strings.Clone(key)] = m
		}
		return
	}
	at.mark = m
	g.marks[h] = at
}

// copyKey appends key to the arena and returns where it is.
func (g *generation) copyKey(key string) markAt {
	if key == "" {
		return markAt{}
	}
	n := len(g.chunks)
	if n == 0 || cap(g.chunks[n-1])-len(g.chunks[n-1]) < len(key) {
		g.chunks = append(g.chunks, make([]byte, 0, max(keyChunk, len(key))))
		n++
	}
	c := g.chunks[n-1]
	off := len(c)
	g.chunks[n-1] = append(c, key...)
	return markAt{chunk: uint32(n - 1), off: uint32(off), klen: uint32(len(key))}
}

// markHash hashes keys for the marks; seeded per table.
func markHash(seed maphash.Seed, key string) uint64 { return maphash.String(seed, key) }
