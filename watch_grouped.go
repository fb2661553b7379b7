package ktables

import (
	"context"
	"iter"
)

// GroupedEvent is a watch Event of a grouped table: Key is the composite
// record key, Group and Member its parts (empty for EventSynced and
// EventReset).
type GroupedEvent[V any] struct {
	Event[V]
	Group, Member string
}

// Watch streams the grouped table's members and then every change to them,
// with the semantics of Table.Watch (SPEC V1–V4). With WithTTL, a member
// whose lease ran out is reported as EventExpired.
func (g *GroupedTable[V]) Watch(ctx context.Context, opts ...WatchOption) iter.Seq2[GroupedEvent[V], error] {
	return func(yield func(GroupedEvent[V], error) bool) {
		for ev, err := range g.t.Watch(ctx, opts...) {
			ge := GroupedEvent[V]{Event: ev}
			switch ev.Kind {
			case EventSnapshot, EventSet, EventDelete, EventExpired:
				// Only the reader may use the index's split cache.
				ge.Group, ge.Member, _ = g.idx.kc.Decode(ev.Key)
			}
			if !yield(ge, err) {
				return
			}
		}
	}
}
