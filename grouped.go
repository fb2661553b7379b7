package ktables

import (
	"context"
	"errors"
	"iter"

	"github.com/ktables/ktables/transport"
)

// GroupedTable is a Table whose keys are (group, member) pairs, served as
// {group: {member: value}} (SPEC 9). It is the race-free multi-writer
// registry: each process writes only its own (group, member) key with a
// GroupedWriter, and every reader sees every group.
//
// It is a Table underneath — same catch-up, status, barrier, failure and
// close semantics — with a nested index instead of a flat map. Keys that are
// not valid UTF-8 are counted in Stats.KeyDecodeErrors, keys that do not
// decode as pairs in Stats.ForeignKeys; both are skipped.
//
// Use a dedicated topic (SPEC G5): a key written by someone else that happens
// to match the scheme, such as "3:abcdef", is read as a member ("abc", "def").
type GroupedTable[V any] struct {
	t   *Table[V]
	idx *groupIndex[V]
}

// OpenGrouped opens a grouped table over topic. It takes the options of
// Open, except that its change hooks are OnMemberSet and OnMemberDelete
// (called with group, member and value) and its key format is WithKeyCodec.
func OpenGrouped[V any](ctx context.Context, tr transport.Transport, topic string, codec Codec[V], opts ...Option) (*GroupedTable[V], error) {
	cfg, err := buildConfig(forGroupedTable, opts)
	if err != nil {
		return nil, err
	}
	onSet, onDelete, err := resolveMemberHooks[V](&cfg)
	if err != nil {
		return nil, err
	}
	// The index checks keys itself (UTF-8, then the key codec), so the flat
	// key format stays out of its way.
	cfg.keyFormat = RawKeys()
	idx := newGroupIndex[V](cfg.keyCodec)
	t, err := newTable(tr, topic, codec, store[V](idx), cfg)
	if err != nil {
		return nil, err
	}
	// The reader calls hooks right after the index applied the key, so
	// split finds the pair it has just decoded.
	if onSet != nil {
		t.onSet = func(key string, v V) {
			g, m := idx.split(key)
			onSet(g, m, v)
		}
	}
	if onDelete != nil {
		t.onDelete = func(key string, old V) {
			g, m := idx.split(key)
			onDelete(g, m, old)
		}
	}
	if err := t.start(ctx); err != nil {
		return nil, err
	}
	return &GroupedTable[V]{t: t, idx: idx}, nil
}

// Get returns a member's value and whether it is present.
func (g *GroupedTable[V]) Get(group, member string) (V, bool) { return g.idx.member(group, member) }

// Has reports whether the member is present.
func (g *GroupedTable[V]) Has(group, member string) bool {
	_, ok := g.idx.member(group, member)
	return ok
}

// Members returns a copy of a group's members, nil when the group is absent.
func (g *GroupedTable[V]) Members(group string) map[string]V { return g.idx.membersOf(group) }

// HasGroup reports whether group has at least one member.
func (g *GroupedTable[V]) HasGroup(group string) bool { return g.idx.hasGroup(group) }

// Groups returns the names of the groups that have members, in no
// particular order.
func (g *GroupedTable[V]) Groups() []string { return g.idx.groupNames() }

// GroupCount returns the number of groups.
func (g *GroupedTable[V]) GroupCount() int { return g.idx.groupCount() }

// MemberCount returns the number of members of group, 0 when the group is
// absent (the Python library's member_count(group)). O(1).
func (g *GroupedTable[V]) MemberCount(group string) int { return g.idx.memberCount(group) }

// TotalMembers returns the number of members over all groups.
func (g *GroupedTable[V]) TotalMembers() int { return g.idx.len() }

// All iterates over every member as (group, member) and value, in no
// particular order; the members of a group come together. Like Table.All,
// each group's members are copied before the loop body sees them, so no
// lock is held while it runs; the whole is not a point-in-time copy (use
// Snapshot for that).
func (g *GroupedTable[V]) All() iter.Seq2[GroupMember, V] { return g.idx.all }

// GroupMember names one member of a grouped table.
type GroupMember struct {
	Group, Member string
}

// Snapshot returns a point-in-time copy of the whole index.
func (g *GroupedTable[V]) Snapshot() map[string]map[string]V { return g.idx.nested() }

// Topic returns the table's topic.
func (g *GroupedTable[V]) Topic() string { return g.t.Topic() }

// Status returns the table's lifecycle state; see Table.Status.
func (g *GroupedTable[V]) Status() Status { return g.t.Status() }

// Err returns the error that failed the table, or nil.
func (g *GroupedTable[V]) Err() error { return g.t.Err() }

// Stats returns a copy of the table's counters.
func (g *GroupedTable[V]) Stats() Stats { return g.t.Stats() }

// Barrier waits until writes acknowledged before the call are visible; see
// Table.Barrier.
func (g *GroupedTable[V]) Barrier(ctx context.Context) error { return g.t.Barrier(ctx) }

// WaitCaughtUp waits for catch-up; see Table.WaitCaughtUp.
func (g *GroupedTable[V]) WaitCaughtUp(ctx context.Context) error { return g.t.WaitCaughtUp(ctx) }

// Close stops the table; see Table.Close.
func (g *GroupedTable[V]) Close() error { return g.t.Close() }

// GroupedWriter writes (group, member) keys for a GroupedTable, with the
// same acknowledgement and partitioning as Writer: the partition is the
// murmur2 partition of the composite key.
type GroupedWriter[V any] struct {
	w      *Writer[V]
	kc     KeyCodec
	leases leaseSet[V] // Announce (lease.go)
}

// OpenGroupedWriter returns a GroupedWriter for topic. It takes the same
// options as OpenWriter, plus WithKeyCodec.
func OpenGroupedWriter[V any](ctx context.Context, tr transport.Transport, topic string, codec Codec[V], opts ...Option) (*GroupedWriter[V], error) {
	cfg, err := buildConfig(forGroupedWriter, opts)
	if err != nil {
		return nil, err
	}
	w, err := openWriter(ctx, tr, topic, codec, cfg)
	if err != nil {
		return nil, err
	}
	return &GroupedWriter[V]{w: w, kc: cfg.keyCodec}, nil
}

// Set writes a member's value and returns once it was acknowledged. A group
// or member that is not valid UTF-8 is an error matching ErrInvalidKey, and
// nothing is sent.
func (g *GroupedWriter[V]) Set(ctx context.Context, group, member string, value V) error {
	key, err := g.kc.Encode(group, member)
	if err != nil {
		return err
	}
	return g.w.Set(ctx, key, value)
}

// Delete removes a member with a tombstone and returns once it was
// acknowledged.
func (g *GroupedWriter[V]) Delete(ctx context.Context, group, member string) error {
	key, err := g.kc.Encode(group, member)
	if err != nil {
		return err
	}
	return g.w.Delete(ctx, key)
}

// Topic returns the writer's topic.
func (g *GroupedWriter[V]) Topic() string { return g.w.Topic() }

// Close revokes the writer's outstanding leases (writing their
// tombstones), then stops the writer; see Writer.Close.
func (g *GroupedWriter[V]) Close() error {
	revoked := g.leases.closeAll()
	return errors.Join(revoked, g.w.Close())
}
