package conformance

import (
	"context"
	"fmt"
	"maps"
	"sync/atomic"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

// freshnessCases check SPEC T3: lag and head confirmation come from the
// high watermarks fetch answers carry, with no request of their own.
func freshnessTransportCases() []Case {
	return []Case{
		{Name: "T3/high_watermarks_equal_end_offsets", Clause: "T3", Requires: []Feature{FeatureWatermarks}, run: highWatermarksEqualEndOffsets},
	}
}

func freshnessTableCases() []Case {
	return []Case{
		{Name: "T3/lag_reaches_zero_and_head_confirmed_without_requests", Clause: "T3", Requires: []Feature{FeatureWatermarks}, run: lagZeroHeadConfirmed},
	}
}

// highWatermarksEqualEndOffsets: after produces, every high watermark a
// fetch reports equals EndOffsets of its partition, and a batch that
// carries a partition's records reports that partition's watermark. An
// idle long poll reports nothing wrong, but may leave partitions out: in an
// incremental fetch session (KIP-227, franz-go) the broker omits partitions
// with nothing new, and an absent partition means "unchanged" — the core
// keeps the last value it saw.
func highWatermarksEqualEndOffsets(e *env) {
	const n = 3
	topic := e.newTopic(n, nil)
	parts := partitionIDs(n)
	for i, count := range []int{4, 1, 0} { // partition 2 stays empty
		for j := range count {
			e.produce(e.tr, topic, transport.Record{Partition: int32(i), Key: fmt.Appendf(nil, "k%d", j), Value: []byte("v")})
		}
	}
	ends := e.endOffsets(e.tr, topic, parts)
	if ends[0] != 4 || ends[1] != 1 || ends[2] != 0 {
		e.FatalfAt("X2", "EndOffsets after 4, 1 and 0 produces: %v", ends)
	}
	const wait = 300 * time.Millisecond
	from := map[int32]int64{0: 0, 1: 0, 2: 0}
	f := e.newFetcher(e.tr, topic, from, wait)

	// Nothing is produced meanwhile, so every reported watermark is the
	// end offset.
	check := func(b transport.Batch, what string) {
		for p, hw := range b.HighWatermarks {
			if end, ok := ends[p]; !ok {
				e.Errorf("%s: Batch.HighWatermarks has partition %d, which the fetcher was not given", what, p)
			} else if hw != end {
				e.Errorf("%s: Batch.HighWatermarks[%d] = %d, EndOffsets = %d", what, p, hw, end)
			}
		}
		for _, r := range b.Records {
			if _, ok := b.HighWatermarks[r.Partition]; !ok {
				e.Errorf("%s: the batch carries records of partition %d but no high watermark for it (HighWatermarks %v)", what, r.Partition, b.HighWatermarks)
				return
			}
		}
	}
	pos := maps.Clone(from)
	for pos[0] < ends[0] || pos[1] < ends[1] {
		b, err := f.Poll(e.ctx)
		if err != nil {
			e.FatalfAt("X3", "Poll: %v", err)
		}
		check(b, "a fetch with records")
		for p, o := range b.Next {
			pos[p] = o
		}
	}
	// Idle long polls: empty, and nothing they report contradicts the ends.
	for range 2 {
		b, err := f.Poll(e.ctx)
		if err != nil {
			e.FatalfAt("X3", "idle Poll: %v", err)
		}
		if len(b.Records) != 0 {
			e.Fatalf("idle Poll returned %d records; nothing was produced", len(b.Records))
		}
		check(b, "an idle long poll")
		if len(b.HighWatermarks) < n {
			e.t.Logf("an idle long poll reported high watermarks %v of %d partitions (an incremental fetch session omits unchanged ones)", b.HighWatermarks, n)
		}
	}

	// A record arriving during a long poll: the batch that carries it
	// reports the new end.
	done := make(chan transport.Batch, 1)
	go func() {
		for {
			b, err := f.Poll(e.ctx)
			if err != nil || len(b.Records) > 0 {
				done <- b
				return
			}
		}
	}()
	e.produce(e.tr, topic, transport.Record{Partition: 2, Key: []byte("late"), Value: []byte("v")})
	ends = e.endOffsets(e.tr, topic, parts)
	b := <-done
	if len(b.Records) == 0 {
		e.Fatalf("the record produced to partition 2 during a long poll never arrived")
	}
	if hw, ok := b.HighWatermarks[2]; !ok || hw != ends[2] {
		e.Errorf("the batch with partition 2's new record reports HighWatermarks[2] = %d (present %v), EndOffsets = %d", hw, ok, ends[2])
	}
}

// offsetCounter counts the offsets requests a table makes; everything else
// goes straight to the transport it wraps.
type offsetCounter struct {
	transport.Transport
	calls atomic.Int64
}

func (c *offsetCounter) EndOffsets(ctx context.Context, topic string, parts []int32) (map[int32]int64, error) {
	c.calls.Add(1)
	return c.Transport.EndOffsets(ctx, topic, parts)
}

func (c *offsetCounter) StartOffsets(ctx context.Context, topic string, parts []int32) (map[int32]int64, error) {
	c.calls.Add(1)
	return c.Transport.StartOffsets(ctx, topic, parts)
}

// lagZeroHeadConfirmed: after writes, a table's per-partition lag goes to
// 0 against high watermarks equal to EndOffsets, and HeadConfirmed moves
// past the writes and keeps moving while idle — with no offsets request
// after Open: fetch answers are the only source.
func lagZeroHeadConfirmed(e *env) {
	const n = 3
	topic := e.newTopic(n, compacted())
	for i := range 12 {
		k := fmt.Sprintf("old-%d", i)
		e.produce(e.tr, topic, transport.Record{Partition: transport.Partition([]byte(k), n), Key: []byte(k), Value: []byte("v")})
	}
	counted := &offsetCounter{Transport: e.otherProcess()}
	tbl := openTable(e, counted, topic, ktables.String(), ktables.WithoutEnsureTopic(),
		ktables.WithFetchMaxWait(200*time.Millisecond), ktables.WithPartitionRefresh(time.Hour))
	afterOpen := counted.calls.Load()

	w := openWriter(e, e.tr, topic, ktables.String())
	for i := range 20 {
		set(e, w, fmt.Sprintf("new-%d", i), "v")
	}
	wrote := time.Now()
	ends := e.endOffsets(e.tr, topic, partitionIDs(n))
	e.eventually("the table's lag is 0 against the end offsets on every partition", func() bool {
		lag := tbl.Lag()
		if len(lag) != n || tbl.Stats().Lag != 0 {
			return false
		}
		for _, pl := range lag {
			if pl.Lag != 0 || pl.HighWatermark != ends[pl.Partition] || pl.Applied != ends[pl.Partition] {
				return false
			}
		}
		return tbl.Stats().HeadConfirmed.After(wrote)
	}, func() string {
		return fmt.Sprintf("Lag() = %+v, Stats = %+v, EndOffsets = %v", tbl.Lag(), tbl.Stats(), ends)
	})
	if tbl.Len() != 32 {
		e.Errorf("table holds %d keys, want 32", tbl.Len())
	}

	// Idle: every long poll confirms the head again.
	confirmed := tbl.Stats().HeadConfirmed
	e.eventually("HeadConfirmed advances while the table is idle", func() bool {
		return tbl.Stats().HeadConfirmed.After(confirmed)
	}, func() string { return fmt.Sprintf("HeadConfirmed stays %s", confirmed) })
	if extra := counted.calls.Load() - afterOpen; extra != 0 {
		e.Errorf("the table made %d offsets requests after Open; lag and head confirmation must come from fetch answers", extra)
	}
}
