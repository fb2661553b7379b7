package ktables

import (
	"context"
	"iter"
	"strconv"
	"time"
)

// EventKind says what a watch Event reports (SPEC V1–V3).
type EventKind uint8

const (
	// EventSnapshot is one entry of the table's contents at the start of a
	// watch, or after an EventReset. New holds the value.
	EventSnapshot EventKind = iota + 1
	// EventSynced ends a snapshot: every entry of the contents as of
	// Positions has been delivered, and changes after them follow.
	EventSynced
	// EventSet: a record set the key. HadOld and Old tell what it replaced.
	EventSet
	// EventDelete: a tombstone removed the key; Old is the value it had.
	EventDelete
	// EventExpired: a table opened WithTTL hid the key because its last
	// record is older than the TTL (SPEC V5). Old is the value it had, Time
	// and Position are those of its last record. A fresh record shows it
	// again, as an EventSet with HadOld false.
	EventExpired
	// EventReset: the watcher fell more than the table's watch buffer
	// behind. Forget every key: a fresh snapshot (EventSnapshot entries,
	// then EventSynced) follows, then changes after it. No change is lost
	// from the final state, but intermediate values are skipped.
	EventReset
)

func (k EventKind) String() string {
	switch k {
	case EventSnapshot:
		return "snapshot"
	case EventSynced:
		return "synced"
	case EventSet:
		return "set"
	case EventDelete:
		return "delete"
	case EventExpired:
		return "expired"
	case EventReset:
		return "reset"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one step of a watch. Which fields are set depends on Kind:
//
//   - EventSnapshot: Key, New; Time and Position only for tables opened
//     WithTTL (which track the last record of every key), zero otherwise.
//   - EventSynced: Positions, the applied position of every partition the
//     snapshot reflects.
//   - EventSet: Key, New, HadOld and Old, Time (the record timestamp),
//     Position (the record's).
//   - EventDelete: Key, Old (HadOld is true), Time and Position of the
//     tombstone.
//   - EventExpired: Key, Old (HadOld is true), Time and Position of the
//     key's last record.
//   - EventReset: nothing else.
//
// Values are shared with the table: do not modify them (SPEC C2).
type Event[V any] struct {
	Kind      EventKind
	Key       string
	Old       V
	HadOld    bool
	New       V
	Time      time.Time
	Position  Position
	Positions []Position
}

// WatchOption configures one Watch.
type WatchOption interface{ applyWatch(*watchConfig) }

type watchConfig struct {
	coalesce bool
}

type watchOptionFunc func(*watchConfig)

func (f watchOptionFunc) applyWatch(c *watchConfig) { f(c) }

// WatchCoalesce delivers, for a watcher that is behind, only the net change
// per key over what it has not read yet — the latest value, with the Old
// value the watcher last saw — instead of every intermediate change. A key
// added and removed in between is not shown at all. This is what a config
// reloader wants: it never works through stale values. A watcher that
// falls more than the watch buffer behind still gets an EventReset and a
// fresh snapshot.
func WatchCoalesce() WatchOption {
	return watchOptionFunc(func(c *watchConfig) { c.coalesce = true })
}

// Watch streams the table's contents and then every change (SPEC V1–V4).
// Each iteration of the returned sequence is an independent watch: it
// starts with the contents as of the applied positions at that moment (one
// EventSnapshot per key, then an EventSynced carrying the positions), then
// yields every change after those positions in the order the reader
// applied them, with nothing missed or shown twice.
//
// The iterator runs on the caller's goroutine and costs the table nothing
// while the caller is busy: the reader appends each change once to a
// shared buffer (WithWatchBuffer, default DefaultWatchBuffer changes) and
// never waits for a watcher. A watcher that falls further behind than the
// buffer gets an EventReset and a fresh snapshot; see also WatchCoalesce.
// A watcher holds at most one chunk of changes of its own, so one that
// never reads holds bounded memory.
//
// The sequence ends, after yielding a final (zero Event, error) pair, when
// ctx ends (ctx's error), the table is closed (ErrClosed) or fails (an
// error matching ErrTableFailed). On a table that is already closed or
// failed, that pair comes at once. Breaking out of the loop ends the watch.
func (t *Table[V]) Watch(ctx context.Context, opts ...WatchOption) iter.Seq2[Event[V], error] {
	var cfg watchConfig
	for _, o := range opts {
		if o != nil {
			o.applyWatch(&cfg)
		}
	}
	return func(yield func(Event[V], error) bool) {
		if err := t.watchEnded(ctx); err != nil {
			yield(Event[V]{}, err)
			return
		}
		t.changes.watchers.Add(1)
		defer t.changes.watchers.Add(-1)
		w := &watcher[V]{t: t, cfg: cfg}
		w.run(ctx, yield)
	}
}

// watchEnded returns why a watch must end, or nil.
func (t *Table[V]) watchEnded(ctx context.Context) error {
	select {
	case <-t.closed:
		return ErrClosed
	default:
	}
	select {
	case <-t.failed:
		return &failedError{cause: t.Err()}
	default:
	}
	return ctx.Err()
}
