package ktables

import (
	"maps"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// groupIndex is the grouped table's store: {group: {member: value}},
// sharded by group, maintained incrementally by the reader (SPEC G3). It is
// the only copy of the data: a grouped table keeps no flat map beside it.
//
// A group's members are a plain Go map, so Members is maps.Clone, which
// copies the map's memory whole instead of inserting member by member
// (ADR 17). At group sizes of tens to hundreds a Go map costs about what a
// compactMap does per member.
type groupIndex[V any] struct {
	kc      KeyCodec
	groups  *shardedMap[*memberSet[V]]
	members atomic.Int64
	// pack, for []byte values, copies a member name and its value into one
	// allocation, name first, returning the name's copy and the value's:
	// the index then copies values itself (ADR 15), one allocation per
	// record rather than a value copy by the reader and a name copy here.
	pack func(member string, v V) (string, V)

	// The reader calls accept, then set or remove, for the same key: the
	// split accept made is kept for them so each record is decoded once.
	// Only the reader goroutine touches these.
	lastKey, lastGroup, lastMember string
}

var _ store[int] = (*groupIndex[int])(nil)

// memberSet is one group's members. A Go map never shrinks, and maps.Clone
// copies its whole capacity, so peak remembers the most members it held:
// once fewer than a quarter are left, the map is rebuilt to size.
type memberSet[V any] struct {
	m    map[string]V
	peak int
}

// shrinkBelow is the smallest peak worth rebuilding a group's map for.
const shrinkBelow = 64

func newGroupIndex[V any](kc KeyCodec) *groupIndex[V] {
	x := &groupIndex[V]{kc: kc, groups: newShardedMap[*memberSet[V]]()}
	x.pack, _ = any(packMember).(func(string, V) (string, V))
	return x
}

func packMember(member string, v []byte) (string, []byte) {
	if len(member)+len(v) == 0 {
		return "", []byte{}
	}
	kv := make([]byte, len(member)+len(v))
	copy(kv, member)
	copy(kv[len(member):], v)
	return bytesToString(kv[:len(member)]), kv[len(member):len(kv):len(kv)]
}

// copiesValues reports whether the index copies the values it is given, so
// the reader need not (table.go).
func (x *groupIndex[V]) copiesValues() bool { return x.pack != nil }

func (x *groupIndex[V]) accept(key string) keyVerdict {
	g, m, ok := x.kc.Decode(key)
	if !ok {
		if !utf8.ValidString(key) {
			return keyInvalid
		}
		return keyForeign
	}
	// LengthPrefixed only decodes valid UTF-8; another codec might not.
	if _, checked := x.kc.(LengthPrefixed); !checked && !utf8.ValidString(key) {
		return keyInvalid
	}
	x.lastKey, x.lastGroup, x.lastMember = key, g, m
	return keyOK
}

// split returns the pair of a key accept has accepted, and forgets it: the
// strings alias the record, which the index must not keep alive (ADR 15).
func (x *groupIndex[V]) split(key string) (group, member string) {
	if key == x.lastKey {
		group, member = x.lastGroup, x.lastMember
		x.lastKey, x.lastGroup, x.lastMember = "", "", ""
		return group, member
	}
	group, member, _ = x.kc.Decode(key)
	return group, member
}

func (x *groupIndex[V]) get(key string) (V, bool) {
	g, m, ok := x.kc.Decode(key)
	if !ok {
		var zero V
		return zero, false
	}
	return x.member(g, m)
}

func (x *groupIndex[V]) member(group, member string) (v V, ok bool) {
	x.groups.view(group, func(gs *compactMap[*memberSet[V]], h uint64) {
		if ms, found := gs.get(h, group); found {
			v, ok = ms.m[member]
		}
	})
	return v, ok
}

func (x *groupIndex[V]) set(key string, v V) {
	g, m := x.split(key)
	x.groups.update(g, func(gs *compactMap[*memberSet[V]], h uint64) int {
		ms, ok := gs.get(h, g)
		delta := 0
		if !ok {
			ms = &memberSet[V]{m: map[string]V{}}
			gs.set(h, g, ms) // copies the name out of the record
			delta = 1
		}
		// Assigning to a present key replaces the map's key string too,
		// so the name stored is always a copy, never the record's bytes
		// (ADR 15). Packed, the name shares the value's new allocation and
		// the old one, holding the old value, becomes garbage.
		if x.pack != nil {
			m, v = x.pack(m, v)
		} else {
			m = strings.Clone(m)
		}
		n := len(ms.m)
		ms.m[m] = v
		if len(ms.m) > n {
			x.members.Add(1)
			ms.peak = max(ms.peak, len(ms.m))
		}
		return delta
	})
}

func (x *groupIndex[V]) remove(key string) (old V, ok bool) {
	g, m := x.split(key)
	x.groups.update(g, func(gs *compactMap[*memberSet[V]], h uint64) int {
		ms, found := gs.get(h, g)
		if !found {
			return 0
		}
		if old, ok = ms.m[m]; !ok {
			return 0
		}
		delete(ms.m, m)
		x.members.Add(-1)
		switch n := len(ms.m); {
		case n == 0:
			gs.remove(h, g) // the last member leaves: the group is gone
			return -1
		case ms.peak >= shrinkBelow && n < ms.peak/4:
			// The shard's write lock is held: no reader is in the map.
			ms.m = resized(ms.m)
			ms.peak = n
		}
		return 0
	})
	return old, ok
}

func (x *groupIndex[V]) len() int { return int(x.members.Load()) }

// reserve and trim are no-ops: members live in many small maps, whose
// sizes the record count says nothing about.
func (x *groupIndex[V]) reserve(int) {}
func (x *groupIndex[V]) trim()       {}

func (x *groupIndex[V]) groupCount() int { return x.groups.len() }

func (x *groupIndex[V]) memberCount(group string) (n int) {
	x.groups.view(group, func(gs *compactMap[*memberSet[V]], h uint64) {
		if ms, ok := gs.get(h, group); ok {
			n = len(ms.m)
		}
	})
	return n
}

// all yields every member, one group at a time: a group's entries are
// copied under its shard's read lock, then yielded without it.
func (x *groupIndex[V]) all(yield func(GroupMember, V) bool) {
	var buf []entry[V]
	for _, g := range x.groupNames() {
		buf = buf[:0]
		x.groups.view(g, func(gs *compactMap[*memberSet[V]], h uint64) {
			if ms, ok := gs.get(h, g); ok {
				for k, v := range ms.m {
					buf = append(buf, entry[V]{k, v})
				}
			}
		})
		for _, e := range buf {
			if !yield(GroupMember{Group: g, Member: e.key}, e.val) {
				return
			}
		}
	}
}

func (x *groupIndex[V]) hasGroup(group string) (ok bool) {
	x.groups.view(group, func(gs *compactMap[*memberSet[V]], h uint64) { _, ok = gs.get(h, group) })
	return ok
}

// membersOf copies one group's members.
func (x *groupIndex[V]) membersOf(group string) map[string]V {
	var out map[string]V
	x.groups.view(group, func(gs *compactMap[*memberSet[V]], h uint64) {
		if ms, ok := gs.get(h, group); ok {
			out = maps.Clone(ms.m)
		}
	})
	return out
}

// resized copies m into a map sized for what it holds now.
func resized[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// nested copies the whole index in one pass at one point in time.
func (x *groupIndex[V]) nested() map[string]map[string]V {
	var out map[string]map[string]V
	x.groups.frozen(func(n int, each func(func(*cell[*memberSet[V]]))) {
		out = make(map[string]map[string]V, n)
		each(func(c *cell[*memberSet[V]]) { out[c.key()] = maps.Clone(c.val.m) })
	})
	return out
}

func (x *groupIndex[V]) groupNames() []string {
	names := make([]string, 0, x.groups.len())
	x.groups.chunks(func(part []entry[*memberSet[V]]) bool {
		for _, e := range part {
			names = append(names, e.key)
		}
		return true
	})
	return names
}

// snapshot and chunks give the flat view, with keys re-encoded.
func (x *groupIndex[V]) snapshot() map[string]V {
	out := make(map[string]V, x.len())
	for g, members := range x.nested() {
		for m, v := range members {
			out[x.flatKey(g, m)] = v
		}
	}
	return out
}

func (x *groupIndex[V]) chunks(fn func([]entry[V]) bool) {
	var buf []entry[V]
	for _, g := range x.groupNames() {
		buf = buf[:0]
		for m, v := range x.membersOf(g) {
			buf = append(buf, entry[V]{x.flatKey(g, m), v})
		}
		if len(buf) > 0 && !fn(buf) {
			return
		}
	}
}

func (x *groupIndex[V]) flatKey(g, m string) string {
	k, _ := x.kc.Encode(g, m) // g and m came from decoding valid UTF-8
	return k
}
