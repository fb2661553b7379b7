package ktables

import (
	"context"
	"fmt"
)

// Barrier waits until every write acknowledged before the call is visible in
// the table (read-your-own-writes on demand, SPEC B1). It asks the transport
// for the end offsets of the partitions known now, then waits until the
// reader has applied up to them; writes made after the call are not waited
// for. An idle, caught-up table answers after one offsets round trip, without
// waiting for a fetch (SPEC B4).
//
// It returns nil when fresh; ctx's error; ErrClosed if the table is or gets
// closed; an error matching ErrTableFailed (and the cause) if the reader
// failed or fails; or the transport's error while reading end offsets.
func (t *Table[V]) Barrier(ctx context.Context) error {
	if t.isClosed() {
		return ErrClosed
	}
	if err := t.Err(); err != nil {
		return &failedError{cause: err}
	}
	pos := t.pos.Load()
	ends, err := t.tr.EndOffsets(ctx, t.topic, pos.parts)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if t.isClosed() {
			return ErrClosed
		}
		return fmt.Errorf("ktables: barrier on %q: end offsets: %w", t.topic, err)
	}
	return t.waitFor(ctx, pos, ends)
}

// waitFor blocks until pos has reached targets.
func (t *Table[V]) waitFor(ctx context.Context, pos *positions, targets map[int32]int64) error {
	for {
		woken := t.progress.wait()
		if pos.reached(targets) {
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
