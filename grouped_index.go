package ktables

import (
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// groupIndex is the grouped table's store: {group: {member: value}},
// sharded by group, maintained incrementally by the reader (SPEC G3). It is
// the only copy of the data: a grouped table keeps no flat map beside it.
type groupIndex[V any] struct {
	kc      KeyCodec
	groups  *shardedMap[map[string]V]
	members atomic.Int64
}

var _ store[int] = (*groupIndex[int])(nil)

func newGroupIndex[V any](kc KeyCodec) *groupIndex[V] {
	return &groupIndex[V]{kc: kc, groups: newShardedMap[map[string]V]()}
}

func (x *groupIndex[V]) accept(key string) keyVerdict {
	if !utf8.ValidString(key) {
		return keyInvalid
	}
	if _, _, ok := x.kc.Decode(key); !ok {
		return keyForeign
	}
	return keyOK
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
	x.groups.view(group, func(gs map[string]map[string]V) {
		v, ok = gs[group][member]
	})
	return v, ok
}

func (x *groupIndex[V]) set(key string, v V) {
	g, m, _ := x.kc.Decode(key) // accepted by accept
	x.groups.update(g, func(gs map[string]map[string]V) {
		members, ok := gs[g]
		if !ok {
			members = make(map[string]V, 1)
			// The group name outlives the record it came from.
			gs[strings.Clone(g)] = members
		}
		before := len(members)
		replace(members, m, v)
		if len(members) != before {
			x.members.Add(1)
		}
	})
}

func (x *groupIndex[V]) remove(key string) (old V, ok bool) {
	g, m, _ := x.kc.Decode(key)
	x.groups.update(g, func(gs map[string]map[string]V) {
		members := gs[g]
		if old, ok = members[m]; !ok {
			return
		}
		delete(members, m)
		x.members.Add(-1)
		if len(members) == 0 {
			delete(gs, g) // the last member leaves: the group is gone
		}
	})
	return old, ok
}

func (x *groupIndex[V]) len() int { return int(x.members.Load()) }

func (x *groupIndex[V]) groupCount() int { return x.groups.len() }

func (x *groupIndex[V]) hasGroup(group string) (ok bool) {
	x.groups.view(group, func(gs map[string]map[string]V) { _, ok = gs[group] })
	return ok
}

// membersOf copies one group's members.
func (x *groupIndex[V]) membersOf(group string) map[string]V {
	var out map[string]V
	x.groups.view(group, func(gs map[string]map[string]V) {
		if members, ok := gs[group]; ok {
			out = make(map[string]V, len(members))
			for m, v := range members {
				out[m] = v
			}
		}
	})
	return out
}

// nested copies the whole index in one pass at one point in time.
func (x *groupIndex[V]) nested() map[string]map[string]V {
	var out map[string]map[string]V
	x.groups.frozen(func(n int, each func(func(string, map[string]V))) {
		out = make(map[string]map[string]V, n)
		each(func(g string, members map[string]V) {
			cp := make(map[string]V, len(members))
			for m, v := range members {
				cp[m] = v
			}
			out[g] = cp
		})
	})
	return out
}

func (x *groupIndex[V]) groupNames() []string {
	names := make([]string, 0, x.groups.len())
	x.groups.chunks(func(part []entry[map[string]V]) bool {
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
	x.groups.chunks(func(part []entry[map[string]V]) bool {
		for _, e := range part {
			buf = buf[:0]
			for _, m := range x.memberEntries(e.key) {
				buf = append(buf, entry[V]{x.flatKey(e.key, m.key), m.val})
			}
			if len(buf) > 0 && !fn(buf) {
				return false
			}
		}
		return true
	})
}

func (x *groupIndex[V]) memberEntries(group string) []entry[V] {
	members := x.membersOf(group)
	out := make([]entry[V], 0, len(members))
	for m, v := range members {
		out = append(out, entry[V]{m, v})
	}
	return out
}

func (x *groupIndex[V]) flatKey(g, m string) string {
	k, _ := x.kc.Encode(g, m) // g and m came from decoding valid UTF-8
	return k
}
