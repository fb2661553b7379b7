package ktables

import (
	"context"
	"fmt"
	"time"
)

// Barrier waits until every write acknowledged before the call is visible in
// the table (read-your-own-writes on demand, SPEC B1). It reads the end
// offsets of the partitions that exist now — listing them alongside the
// end-offsets request, so partitions the table has not discovered yet are
// covered too (SPEC B6) — then waits until the reader has applied up to
// them; writes made after the call are not waited for. An idle, caught-up
// table answers after one round trip, without waiting for a fetch (SPEC B4).
//
// It returns nil when fresh; ctx's error; ErrClosed if the table is or gets
// closed; an error matching ErrTableFailed (and the cause) if the reader
// failed or fails; or the transport's error while reading offsets. Close and
// failure end a Barrier at once, also while its offsets request hangs on the
// network (SPEC B7).
func (t *Table[V]) Barrier(ctx context.Context) (err error) {
	if t.ob.on() { // observer.go
		defer t.observeBarrier(time.Now(), &err)
	}
	if err := t.usable(); err != nil {
		return err
	}
	ends, err := t.headOffsets(ctx)
	if err != nil {
		return err
	}
	return t.waitUntil(ctx, func(p *positions) bool { return p.reached(ends) })
}

// usable returns the error for waiting on a closed or failed table.
func (t *Table[V]) usable() error {
	if t.isClosed() {
		return ErrClosed
	}
	if err := t.Err(); err != nil {
		return &failedError{cause: err}
	}
	return nil
}

// waitUntil blocks until reached holds for the applied positions, reloaded
// on every wake-up so that partitions discovered meanwhile count.
func (t *Table[V]) waitUntil(ctx context.Context, reached func(*positions) bool) error {
	for {
		woken := t.progress.wait()
		if reached(t.pos.Load()) {
			return nil
		}
		select {
		case <-woken:
		case <-ctx.Done():
			return ctx.Err()
		case <-t.closed:
			return ErrClosed
		case <-t.failed:
			return &failedError{cause: t.Err()}
		}
	}
}

type result[T any] struct {
	v   T
	err error
}

// async runs fn on its own goroutine. The caller cancels fn's context when
// it stops waiting, so the goroutine ends when a transport honours
// cancellation (every adapter must, SPEC X3).
func async[T any](fn func() (T, error)) <-chan result[T] {
	ch := make(chan result[T], 1)
	go func() {
		v, err := fn()
		ch <- result[T]{v, err}
	}()
	return ch
}

// await receives r unless ctx ends, the table closes or fails first: a
// request stuck on the network never holds a waiter past Close (SPEC B7).
func await[T any, V any](ctx context.Context, t *Table[V], ch <-chan result[T]) (T, error) {
	var zero T
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-t.closed:
		return zero, ErrClosed
	case <-t.failed:
		return zero, &failedError{cause: t.Err()}
	}
}

// headOffsets returns the end offset of every partition that exists now
// (SPEC B6). The partition list is requested concurrently with the end
// offsets of the partitions the table knows, so this costs one round trip;
// only partitions it did not know need a second request, and they are
// handed to partition discovery at once.
func (t *Table[V]) headOffsets(ctx context.Context) (map[int32]int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	known := t.pos.Load()
	endsC := async(func() (map[int32]int64, error) { return t.tr.EndOffsets(ctx, t.topic, known.parts) })
	partsC := async(func() ([]int32, error) { return t.tr.Partitions(ctx, t.topic) })
	ends, err := await(ctx, t, endsC)
	if err != nil {
		return nil, t.offsetsError(ctx, err)
	}
	parts, err := await(ctx, t, partsC)
	if err != nil {
		return nil, t.offsetsError(ctx, err)
	}
	var fresh []int32
	for _, p := range parts {
		if _, ok := known.at[p]; !ok {
			fresh = append(fresh, p)
		}
	}
	if len(fresh) == 0 {
		return ends, nil
	}
	t.discoverSoon()
	more, err := await(ctx, t, async(func() (map[int32]int64, error) { return t.tr.EndOffsets(ctx, t.topic, fresh) }))
	if err != nil {
		return nil, t.offsetsError(ctx, err)
	}
	out := make(map[int32]int64, len(ends)+len(more))
	for _, m := range []map[int32]int64{ends, more} {
		for p, off := range m {
			out[p] = off
		}
	}
	return out, nil
}

// offsetsError explains a failed offsets request: the waiter's own errors
// (ctx, ErrClosed, a failed table) pass through, the transport's get the
// topic.
func (t *Table[V]) offsetsError(ctx context.Context, err error) error {
	if _, ok := err.(*failedError); ok || err == ErrClosed || err == ctx.Err() {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if t.isClosed() {
		return ErrClosed
	}
	return fmt.Errorf("ktables: offsets of %q: %w", t.topic, err)
}

// discoverSoon asks the partition watcher to look for new partitions now
// instead of at its next tick.
func (t *Table[V]) discoverSoon() {
	select {
	case t.discover <- struct{}{}:
	default: // a request is already pending
	}
}

// onlyNew drops from d the partitions the table reads already.
func (p *positions) onlyNew(d discovered) discovered {
	out := discovered{start: map[int32]int64{}, end: map[int32]int64{}}
	for id, off := range d.start {
		if _, ok := p.at[id]; !ok {
			out.start[id] = off
			if end, ok := d.end[id]; ok {
				out.end[id] = end
			}
		}
	}
	return out
}
