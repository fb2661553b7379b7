package ktables

import (
	"context"
	"log/slog"
	"time"
)

// Partition discovery belongs to the table: it watches the topic's
// partition list and hands partitions found after open to the reader,
// which starts reading them (SPEC L4).

// discovered carries partitions found after open, with their start and end
// offsets.
type discovered struct {
	start, end map[int32]int64
}

// watchPartitions looks for partitions added after open and hands them to
// the reader. Errors are left for the next tick: the reader reports what
// matters (a deleted topic fails its fetch).
func (t *Table[V]) watchPartitions(ctx context.Context) {
	tick := time.NewTicker(t.cfg.partitionRefresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-t.discover: // freshness: a Barrier or WaitFor needs a partition now (SPEC B6, T2)
		}
		d, err := t.newPartitions(ctx)
		if err != nil {
			if ctx.Err() == nil {
				t.log.Debug("ktables: partition refresh failed", slog.Any("error", err))
			}
			continue
		}
		if len(d.start) == 0 {
			continue
		}
		select {
		case t.newParts <- d:
			t.waker.wake() // the reader takes them now, not after its long poll
		case <-ctx.Done():
			return
		}
	}
}

// newPartitions lists the topic's partitions and reads the offsets of
// those the table does not read yet.
func (t *Table[V]) newPartitions(ctx context.Context) (discovered, error) {
	var d discovered
	parts, err := t.tr.Partitions(ctx, t.topic)
	if err != nil {
		return d, err
	}
	known := t.pos.Load().at
	var fresh []int32
	for _, p := range parts {
		if _, ok := known[p]; !ok {
			fresh = append(fresh, p)
		}
	}
	if len(fresh) == 0 {
		return d, nil
	}
	if d.start, err = t.tr.StartOffsets(ctx, t.topic, fresh); err != nil {
		return d, err
	}
	d.end, err = t.tr.EndOffsets(ctx, t.topic, fresh)
	return d, err
}
