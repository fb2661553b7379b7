package ktables

import (
	"context"
	"slices"
)

// watchChunk bounds what a watcher copies from the shared ring at once,
// and how many snapshot entries it yields between checks for the end.
const watchChunk = 256

// watcher is one iteration of Table.Watch. It runs on the caller's
// goroutine: the table keeps no per-watcher goroutine or queue.
type watcher[V any] struct {
	t      *Table[V]
	cfg    watchConfig
	cursor uint64 // sequence number of the next change to read
	buf    []change[V]
	fold   map[string]int // WatchCoalesce: key -> its change in buf
}

func (w *watcher[V]) run(ctx context.Context, yield func(Event[V], error) bool) {
	t := w.t
	if !w.snapshot(ctx, yield) {
		return
	}
	for {
		if err := t.watchEnded(ctx); err != nil {
			yield(Event[V]{}, err)
			return
		}
		// Take the wake-up channel before looking, so a batch logged in
		// between still wakes us.
		woken := t.changes.notify.wait()
		if w.fill() {
			if !yield(Event[V]{Kind: EventReset}, nil) || !w.snapshot(ctx, yield) {
				return
			}
			continue
		}
		if len(w.buf) == 0 {
			select {
			case <-woken:
			case <-ctx.Done():
			case <-t.closed:
			case <-t.failed:
			}
			continue
		}
		for i := range w.buf {
			if w.buf[i].kind == 0 {
				continue // folded into a later change
			}
			if !yield(w.buf[i].event(), nil) {
				return
			}
		}
		clear(w.buf) // release the values
		w.buf = w.buf[:0]
		clear(w.fold)
	}
}

// fill copies the changes after the cursor into buf; true means the ring
// has overwritten some of them and the watcher must resync.
func (w *watcher[V]) fill() (lapped bool) {
	c := &w.t.changes
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := c.head - w.cursor
	if n == 0 {
		return false
	}
	if n > uint64(len(c.ring)) {
		return true
	}
	limit := uint64(watchChunk)
	if w.cfg.coalesce {
		limit = uint64(len(c.ring))
	}
	n = min(n, limit)
	mask := uint64(len(c.ring) - 1)
	for i := range n {
		ch := c.ring[(w.cursor+i)&mask]
		if w.cfg.coalesce {
			w.merge(ch)
		} else {
			w.buf = append(w.buf, ch)
		}
	}
	w.cursor += n
	return false
}

// merge folds ch into an earlier unread change of the same key: the result
// goes from what the watcher last saw to the latest state.
func (w *watcher[V]) merge(ch change[V]) {
	if w.fold == nil {
		w.fold = make(map[string]int)
	}
	i, ok := w.fold[ch.key]
	if ok {
		first := w.buf[i]
		w.buf[i] = change[V]{}
		ch.old, ch.hadOld = first.old, first.hadOld
		if ch.kind != EventSet && !ch.hadOld {
			delete(w.fold, ch.key) // came and went unseen
			return
		}
	}
	w.fold[ch.key] = len(w.buf)
	w.buf = append(w.buf, ch)
}

// snapshot yields the contents and the EventSynced that ends them, and
// moves the cursor to the ring position they match.
func (w *watcher[V]) snapshot(ctx context.Context, yield func(Event[V], error) bool) bool {
	clear(w.buf)
	w.buf = w.buf[:0]
	clear(w.fold)
	entries, positions := w.t.watchSnapshot(&w.cursor)
	for i := range entries {
		if i > 0 && i%watchChunk == 0 {
			if err := w.t.watchEnded(ctx); err != nil {
				yield(Event[V]{}, err)
				return false
			}
		}
		if !yield(entries[i].event(), nil) {
			return false
		}
		entries[i] = change[V]{} // let delivered values go
	}
	return yield(Event[V]{Kind: EventSynced, Positions: positions}, nil)
}

// watchSnapshot copies the contents and the positions they reflect, and
// sets cursor to the matching ring position, all under the read lock: no
// batch is half applied while it runs.
func (t *Table[V]) watchSnapshot(cursor *uint64) ([]change[V], []Position) {
	c := &t.changes
	c.mu.RLock()
	defer c.mu.RUnlock()
	snap := t.store.snapshot()
	out := make([]change[V], 0, len(snap))
	for k, v := range snap {
		ch := change[V]{kind: EventSnapshot, key: k, new: v}
		if e := c.leases.m[k]; e != nil {
			ch.ts, ch.pos = e.ts, e.pos
		}
		out = append(out, ch)
	}
	cur := t.pos.Load().current()
	positions := make([]Position, 0, len(cur))
	for p, off := range cur {
		positions = append(positions, Position{Partition: p, Offset: off})
	}
	slices.SortFunc(positions, func(a, b Position) int { return int(a.Partition) - int(b.Partition) })
	*cursor = c.head
	return out, positions
}
