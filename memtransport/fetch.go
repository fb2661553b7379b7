package memtransport

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ktables/ktables/transport"
)

// fetcher is a fetch session over one topic. Poll never holds a lock while it
// waits: it collects under the locks, and when there is nothing to return it
// waits on channels taken in the same critical section (the topic's change
// channel, its own reassign channel), so a wake-up cannot be lost, an idle
// Poll does not spin, and nothing is left running when Poll returns.
type fetcher struct {
	t          *Transport
	tp         *topic
	maxWait    time.Duration
	maxBytes   int
	maxRecords int

	closed    chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	pos      map[int32]int64
	order    []int32       // the keys of pos, sorted
	rr       int           // where the next Poll starts in order, for fairness
	assigned chan struct{} // closed by Assign; made lazily by a waiting Poll
}

func (f *fetcher) isClosed() bool {
	select {
	case <-f.closed:
		return true
	default:
		return f.t.closed()
	}
}

// Assign starts fetching the given partitions, or moves ones already fetched,
// and wakes a waiting Poll. Unknown partitions are an error matching
// [transport.ErrUnknownPartition] and change nothing.
func (f *fetcher) Assign(positions map[int32]int64) error {
	if f.isClosed() {
		return closedError(OpFetch, f.tp.name)
	}
	return f.assign("assign", positions)
}

func (f *fetcher) assign(op string, positions map[int32]int64) error {
	f.tp.mu.Lock()
	n, deleted := len(f.tp.parts), f.tp.deleted
	f.tp.mu.Unlock()
	if deleted {
		return transport.NewError(op, f.tp.name, transport.ErrUnknownTopic, nil)
	}
	for p, off := range positions {
		if p < 0 || int(p) >= n {
			return unknownPartition(op, f.tp.name, p, n)
		}
		if off < 0 {
			// Like every real adapter: a position is an offset, never
			// a "from the start" wildcard.
			return transport.NewError(op, f.tp.name, transport.ErrInvalidRequest,
				fmt.Errorf("negative position %d for partition %d", off, p))
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for p, off := range positions {
		if _, ok := f.pos[p]; !ok {
			f.order = append(f.order, p)
		}
		f.pos[p] = off
	}
	slices.Sort(f.order)
	if f.assigned != nil {
		close(f.assigned)
		f.assigned = nil
	}
	return nil
}

// Close ends the session; a waiting Poll returns ErrClosed.
func (f *fetcher) Close() error {
	f.closeOnce.Do(func() { close(f.closed) })
	return nil
}

// Poll returns the records after each partition's position, waiting up to
// the session's MaxWait when there are none. Like the real adapters, it
// returns what it collected together with the first error, and reports
// positions outside a partition's log as ErrOffsetOutOfRange without moving
// them (SPEC X3).
func (f *fetcher) Poll(ctx context.Context) (transport.Batch, error) {
	if f.isClosed() {
		f.t.c.calls[OpFetch].Add(1)
		return transport.Batch{}, closedError(OpFetch, f.tp.name)
	}
	if err := f.t.begin(ctx, OpFetch, f.tp.name); err != nil {
		return transport.Batch{}, err
	}
	var timer *time.Timer
	for {
		if f.isClosed() {
			return transport.Batch{}, closedError(OpFetch, f.tp.name)
		}
		b, changed, assigned, err := f.collect()
		if err != nil || !b.Empty() {
			return b, err
		}
		if timer == nil {
			timer = time.NewTimer(f.maxWait)
			defer timer.Stop()
		}
		select {
		case <-changed:
		case <-assigned:
		case <-timer.C:
			return b, nil // only high watermarks
		case <-ctx.Done():
			return transport.Batch{}, ctx.Err()
		case <-f.closed:
		case <-f.t.done:
		case <-f.t.c.done:
		}
	}
}

// collect takes what is available now, advancing positions. With nothing to
// return it hands back the channels to wait on.
func (f *fetcher) collect() (b transport.Batch, changed, assigned <-chan struct{}, err error) {
	op := OpFetch.String()
	f.mu.Lock()
	defer f.mu.Unlock()
	tp := f.tp
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if tp.deleted {
		return transport.Batch{}, nil, nil, transport.NewError(op, tp.name, transport.ErrUnknownTopic, nil)
	}

	recBudget, byteBudget := f.maxRecords, f.maxBytes
	var outOfRange []int32
	n := len(f.order)
	if n > 0 {
		f.rr = (f.rr + 1) % n
	}
	for i := range n {
		p := f.order[(f.rr+i)%n]
		l, perr := tp.partLocked(op, p)
		if perr != nil {
			return b, nil, nil, perr
		}
		b.SetHighWatermark(p, l.end)
		pos := f.pos[p]
		if pos < l.start || pos > l.end {
			// Kafka answers OFFSET_OUT_OF_RANGE; where to go instead is
			// the core's decision.
			outOfRange = append(outOfRange, p)
			continue
		}
		j := l.indexOf(pos)
		if avail := min(recBudget, len(l.recs)-j); avail > 0 {
			// One allocation per batch in the common single-partition case,
			// sized by the byte budget too, guessing from the first record.
			avail = min(avail, byteBudget/(recordSize(&l.recs[j])+1)+1)
			b.Records = slices.Grow(b.Records, avail)
		}
		for ; j < len(l.recs) && recBudget > 0; j++ {
			r := &l.recs[j]
			size := recordSize(r)
			// Like Kafka, the first record is returned even when it
			// alone exceeds the byte budget, so a fetch always progresses.
			if size > byteBudget && len(b.Records) > 0 {
				byteBudget = 0
				break
			}
			b.Records = append(b.Records, *r)
			recBudget--
			byteBudget -= size
			pos = r.Offset + 1
		}
		if j == len(l.recs) {
			pos = l.end // past trailing holes and control markers (SPEC R4)
		}
		if b.HighWatermarks == nil {
			b.HighWatermarks = make(map[int32]int64, n)
		}
		b.HighWatermarks[p] = l.end
		if pos != f.pos[p] {
			f.pos[p] = pos
			if b.Next == nil {
				b.Next = make(map[int32]int64)
			}
			b.Next[p] = pos
		}
	}
	if len(outOfRange) > 0 {
		return b, nil, nil, transport.OutOfRange(op, tp.name, outOfRange,
			fmt.Errorf("positions outside the log of partitions %v", outOfRange))
	}
	if b.Empty() {
		if f.assigned == nil {
			f.assigned = make(chan struct{})
		}
		return b, tp.waitLocked(), f.assigned, nil
	}
	return b, nil, nil, nil
}
