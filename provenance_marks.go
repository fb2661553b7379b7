package ktables

import (
	"hash/maphash"
	"strings"
	"unsafe"
)

// The remembered marks of one generation (provenance.go). During the
// catch-up of a topic of many partitions nearly every record is remembered
// for a while, so this is on the apply path of each record: it is built for
// one hash per record and no allocation per record.
//
// Marks are found by the key's 64-bit hash in a map with no pointers (the
// collector does not scan it), and each holds where its key's bytes were
// copied into the generation's key arena, so a hit is confirmed against the
// key itself. Two keys of one hash in one generation (rare: 64-bit
// maphash) keep the second in a plain map by key, which a lookup consults
// only when the hash matched another key: exact, whatever the hashes.

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
	marks    map[uint64]markAt
	collided map[string]mark // keys whose hash another key holds in marks
	chunks   [][]byte        // key arena: appended to, never modified
	maxTs    int64           // the latest timestamp among marks
}

// newGeneration returns a generation with room for about hint marks: a
// generation usually holds about as many as the one before it, and growing
// the map from empty each time costs a rehash per doubling.
func newGeneration(hint int) generation {
	return generation{marks: make(map[uint64]markAt, hint)}
}

func (g *generation) len() int { return len(g.marks) + len(g.collided) }

func (g *generation) keyOf(m markAt) string {
	if m.klen == 0 {
		return ""
	}
	c := g.chunks[m.chunk]
	return unsafe.String(unsafe.SliceData(c[m.off:]), m.klen)
}

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
// already holds it.
func (g *generation) put(h uint64, key string, m mark) {
	g.maxTs = max(g.maxTs, m.ts)
	if g.marks == nil {
		g.marks = make(map[uint64]markAt)
	}
	at, ok := g.marks[h]
	switch {
	case !ok:
		at = g.copyKey(key)
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
