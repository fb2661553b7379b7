//go:build cgo

package confluenttransport

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/ktables/ktables/transport"
)

// maxPollRecords caps one Poll; librdkafka keeps the rest queued.
const maxPollRecords = 8192

// pollSlice is how long a Poll waits on its own goroutine, and the
// longest librdkafka wait between its checks of the context and of Close:
// librdkafka's poll takes a timeout, not a context. Past it, the rest of
// the long poll is waited for aside (see awaitAside).
const pollSlice = 20 * time.Millisecond

// asideSlice is the longest wait aside: Close cannot cut it short (its
// consumer is closed once it returns), so it bounds how long
// Transport.Close waits for a session's consumer, like librdkafka's own
// long poll (fetch.wait.max.ms, at most 500 ms) does.
const asideSlice = 250 * time.Millisecond

// graceWait is how long a Poll with records waits once more for the errors
// of partitions that have not answered yet (see Poll).
const graceWait = 100 * time.Millisecond

// outOfRangeCheck bounds the offset lookup that names the partitions of an
// out-of-range error.
const outOfRangeCheck = 5 * time.Second

// NewFetcher opens a fetch session over topic from the given positions:
// a consumer of its own (New) or the caller's (NewFromHandles), assigned
// the partitions at explicit offsets. librdkafka keeps fetching ahead into
// its queue between polls. (X3)
func (t *Transport) NewFetcher(ctx context.Context, topic string, from map[int32]int64, opts transport.FetchOptions) (transport.Fetcher, error) {
	const op = "fetch"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	maxWait := opts.MaxWait
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	pos, err := transport.NewPositions(op, topic, from)
	if err != nil {
		return nil, err
	}
	f := &fetcher{t: t, topic: topic, maxWait: maxWait, pos: pos, done: make(chan struct{})}
	t.mu.Lock()
	switch {
	case t.closed.Load():
		t.mu.Unlock()
		return nil, closedErr(op, topic)
	case t.base == nil && t.consumer == nil:
		t.mu.Unlock()
		return nil, transport.NewError(op, topic, transport.ErrInvalidConfig, errors.New("confluenttransport: no Consumer was given to NewFromHandles"))
	case t.base == nil && t.busy:
		t.mu.Unlock()
		return nil, transport.NewError(op, topic, transport.ErrInvalidConfig, errors.New("confluenttransport: the Consumer given to NewFromHandles already serves a fetch session"))
	case t.base == nil:
		t.busy, f.c = true, t.consumer
	}
	t.fetchers[f] = struct{}{}
	t.mu.Unlock()

	if f.c == nil {
		cc := consumerConfig(t.base, opts, maxWait)
		c, err := kafka.NewConsumer(&cc)
		if err != nil {
			f.release()
			return nil, wrapNew(err)
		}
		// A Close that ran meanwhile (Transport.Close closes every
		// session) found no consumer: whoever comes second closes it.
		f.assignMu.Lock()
		f.c, f.owned = c, true
		closed := f.closed.Load()
		f.assignMu.Unlock()
		if closed {
			t.closing.Go(func() { _ = c.Close() })
			return nil, closedErr(op, topic)
		}
	}
	tps := make([]kafka.TopicPartition, 0, len(from))
	for p, o := range from {
		tps = append(tps, kafka.TopicPartition{Topic: &topic, Partition: p, Offset: kafka.Offset(o)})
	}
	// librdkafka's Assign takes a time that grows with the square of the
	// partitions (7 s for 30,000) and no context: wait for it aside, so
	// that ctx is honoured; the session closes once it is done.
	assigned := make(chan error, 1)
	go func() {
		// Close takes assignMu, so it waits for an Assign in flight
		// before it closes the consumer under it.
		f.assignMu.Lock()
		defer f.assignMu.Unlock()
		assigned <- f.c.Assign(tps)
	}()
	select {
	case err = <-assigned:
	case <-ctx.Done():
		t.closing.Go(func() { <-assigned; _ = f.Close() })
		return nil, ctx.Err()
	}
	if err != nil {
		_ = f.Close()
		return nil, wrap(ctx, op, topic, err)
	}
	return f, nil
}

// fetcher is one fetch session: a librdkafka consumer of explicit
// partitions of one topic.
type fetcher struct {
	t       *Transport
	c       *kafka.Consumer
	owned   bool
	topic   string
	maxWait time.Duration
	pos     *transport.Positions
	// answered holds, per partition, 1 + the generation of the position
	// it last delivered a message or its end at. Poll's alone.
	answered map[int32]uint64
	graced   map[int32]uint64 // likewise, the positions Poll waited for

	// aside is the outcome of the wait awaitAside started and no Poll has
	// taken yet; nil when none. Poll's alone.
	aside  chan kafka.Event
	asides sync.WaitGroup // waits aside still in librdkafka
	done   chan struct{}  // closed by Close: a Poll waiting aside returns

	closed    atomic.Bool
	assignMu  sync.Mutex // orders Assigns reaching librdkafka; excludes Close
	pollMu    sync.Mutex // held while Poll uses c: Close waits for it
	closeOnce sync.Once
}

// Poll returns what librdkafka has queued, waiting up to the session's max
// wait for the first event, with the first error.
func (f *fetcher) Poll(ctx context.Context) (transport.Batch, error) {
	const op = "fetch"
	if err := ctx.Err(); err != nil {
		return transport.Batch{}, err
	}
	if f.closed.Load() {
		return transport.Batch{}, closedErr(op, f.topic)
	}
	f.pollMu.Lock()
	defer f.pollMu.Unlock()
	marks := f.pos.Snapshot()
	var (
		b          transport.Batch
		firstErr   error
		outOfRange bool
		graceUntil time.Time
		answered   = make(map[int32]bool)
		start      = time.Now()
		deadline   = start.Add(f.maxWait)
	)
	for n := 0; n < maxPollRecords; n++ {
		if f.closed.Load() {
			return transport.PollResult(ctx, b, cmp.Or(firstErr, closedErr(op, f.topic)))
		}
		// Wait in slices until there is something to return (an end of
		// partition at the same position is not), then drain what is
		// queued without waiting.
		got := !b.Empty() || firstErr != nil || outOfRange
		wait := 0
		if got && graceUntil.IsZero() && f.unanswered(marks) {
			graceUntil = time.Now().Add(graceWait)
		}
		if left := time.Until(graceUntil); got && left > 0 && !outOfRange && firstErr == nil && f.waiting(marks) {
			// librdkafka queues a partition's out-of-range error through
			// its main thread, a hop after the records the same fetch
			// answered for other partitions. While some partition has
			// not answered since it was assigned, wait that hop once, so
			// the error comes with the records (X3). In steady state
			// every partition has answered and nothing waits.
			wait = max(1, int(left.Milliseconds()))
		}
		var ev kafka.Event
		if !got {
			left := time.Until(deadline)
			if left <= 0 || ctx.Err() != nil {
				break
			}
			wait = max(1, int(min(left, pollSlice).Milliseconds()))
			if f.aside != nil || f.owned && time.Since(start) >= pollSlice {
				if ev = f.awaitAside(ctx, left); ev == nil {
					continue // the wait ended, or ctx, or the session
				}
			}
		}
		if ev == nil {
			ev = f.c.Poll(wait)
		}
		if ev == nil {
			if got {
				break
			}
			continue
		}
		switch e := ev.(type) {
		case *kafka.Message:
			p := e.TopicPartition.Partition
			if e.TopicPartition.Error != nil {
				if code(e.TopicPartition.Error) == kafka.ErrAutoOffsetReset {
					outOfRange = true
				} else {
					firstErr = cmp.Or(firstErr, fetchErr(f.topic, e.TopicPartition.Error))
				}
				continue
			}
			m, asked := marks[p]
			off := int64(e.TopicPartition.Offset)
			if !asked || !isTopic(e.TopicPartition, f.topic) || off < m.Offset {
				continue
			}
			if !f.pos.Advance(&b, p, m, off+1) {
				continue // fetched for a position Assign replaced
			}
			marks[p] = transport.Mark{Offset: off + 1, Gen: m.Gen}
			answered[p] = true
			f.answer(p, m)
			b.Records = append(b.Records, fromMessage(e))
		case kafka.PartitionEOF:
			// The fetch reached the partition's end offset (the last
			// stable offset under read committed), past any transaction
			// markers and aborted records librdkafka did not deliver.
			p := e.Partition
			m, asked := marks[p]
			if !asked || !isTopic(kafka.TopicPartition(e), f.topic) || !f.pos.Current(p, m) {
				continue
			}
			end := int64(e.Offset)
			f.answer(p, m)
			b.SetHighWatermark(p, end)
			if f.pos.Advance(&b, p, m, end) {
				marks[p] = transport.Mark{Offset: end, Gen: m.Gen}
			}
		case kafka.Error:
			switch code(e) {
			case kafka.ErrAutoOffsetReset:
				outOfRange = true
			case kafka.ErrPartitionEOF:
			default:
				// librdkafka reports and retries connection faults
				// itself; the core counts them and backs off. An unknown
				// topic is the core's to confirm (X3).
				firstErr = cmp.Or(firstErr, fetchErr(f.topic, e))
			}
		}
	}
	if !f.t.committed {
		for p := range answered {
			if _, hi, err := f.c.GetWatermarkOffsets(f.topic, p); err == nil {
				b.SetHighWatermark(p, hi)
			}
		}
	}
	if outOfRange && firstErr == nil {
		firstErr = f.outOfRange(ctx, marks)
	}
	return transport.PollResult(ctx, b, firstErr)
}

// awaitAside waits up to d (at most asideSlice) for librdkafka's next event on a goroutine of
// its own, so that the wait can be long and still end with ctx or Close:
// each wake-up of an idle reader costs the Go runtime and librdkafka far
// more than the wait itself, and an idle reader woken every pollSlice
// spent about a hundredth of a core on nothing else. It returns nil when
// the wait timed out or ctx or the session ended first; a wait left
// running is taken by the next Poll, its event included. Only for the
// session's own consumer: a caller's must be left alone once Close
// returns.
func (f *fetcher) awaitAside(ctx context.Context, d time.Duration) kafka.Event {
	if f.aside == nil {
		ch, c := make(chan kafka.Event, 1), f.c
		ms := max(1, int(min(d, asideSlice).Milliseconds()))
		f.asides.Go(func() { ch <- c.Poll(ms) })
		f.aside = ch
	}
	select {
	case ev := <-f.aside:
		f.aside = nil
		return ev
	case <-ctx.Done():
	case <-f.done:
	}
	return nil
}

// answer notes that partition p answered at generation m.Gen.
func (f *fetcher) answer(p int32, m transport.Mark) {
	if f.answered == nil {
		f.answered = make(map[int32]uint64)
	}
	f.answered[p] = m.Gen + 1 // zero: never
}

// unanswered reports whether a partition of marks has delivered nothing,
// not even its end, since its position was last assigned, and was not
// waited for yet: each position is waited for once, so a partition whose
// leader is away delays the others' records by one grace at most.
func (f *fetcher) unanswered(marks map[int32]transport.Mark) bool {
	if f.graced == nil {
		f.graced = make(map[int32]uint64)
	}
	found := false
	for p, m := range marks {
		if f.answered[p] != m.Gen+1 && f.graced[p] != m.Gen+1 {
			f.graced[p] = m.Gen + 1
			found = true
		}
	}
	return found
}

// waiting reports whether a partition of marks has not answered since its
// position was last assigned.
func (f *fetcher) waiting(marks map[int32]transport.Mark) bool {
	for p, m := range marks {
		if f.answered[p] != m.Gen+1 {
			return true
		}
	}
	return false
}

// outOfRange names the partitions of an out-of-range error. librdkafka
// reports auto.offset.reset=error without the partition, so the positions
// are compared with the log bounds. When none is outside them (the log
// moved back meanwhile), every partition is named: the core finds them in
// range and assigns them again, which resumes librdkafka's fetching.
func (f *fetcher) outOfRange(ctx context.Context, marks map[int32]transport.Mark) error {
	const op = "fetch"
	native := kafka.NewError(kafka.ErrAutoOffsetReset, "fetch position out of range", false)
	parts := make([]int32, 0, len(marks))
	for p := range marks {
		parts = append(parts, p)
	}
	cctx, cancel := context.WithTimeout(ctx, outOfRangeCheck)
	defer cancel()
	start, err := f.t.StartOffsets(cctx, f.topic, parts)
	if err != nil {
		return err
	}
	end, err := f.t.EndOffsets(cctx, f.topic, parts)
	if err != nil {
		return err
	}
	var out []int32
	for p, m := range marks {
		if f.pos.Current(p, m) && (m.Offset < start[p] || m.Offset > end[p]) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		out = parts
	}
	return transport.OutOfRange(op, f.topic, out, native)
}

// Assign starts fetching new partitions, or moves fetched ones, to the given
// positions.
func (f *fetcher) Assign(positions map[int32]int64) error {
	const op = "assign"
	if len(positions) == 0 {
		return nil
	}
	f.assignMu.Lock()
	defer f.assignMu.Unlock()
	if f.closed.Load() {
		return closedErr(op, f.topic)
	}
	moved, err := f.pos.Assign(op, f.topic, positions)
	if err != nil {
		return err
	}
	isMoved := make(map[int32]bool, len(moved))
	var drop []kafka.TopicPartition
	for _, p := range moved {
		isMoved[p] = true
		drop = append(drop, kafka.TopicPartition{Topic: &f.topic, Partition: p})
	}
	// A moved partition is unassigned and assigned again: that restarts
	// its fetching at the new offset even where librdkafka stopped it
	// (after an out-of-range error), which Seek does not.
	if len(drop) > 0 {
		if err := f.c.IncrementalUnassign(drop); err != nil {
			return wrap(context.Background(), op, f.topic, err)
		}
	}
	add := make([]kafka.TopicPartition, 0, len(positions))
	for p, o := range positions {
		add = append(add, kafka.TopicPartition{Topic: &f.topic, Partition: p, Offset: kafka.Offset(o)})
	}
	if err := f.c.IncrementalAssign(add); err != nil {
		return wrap(context.Background(), op, f.topic, err)
	}
	return nil
}

// Close ends the session: the own consumer is closed (in the background;
// Transport.Close waits for it), the caller's is
// unassigned and free for another session. A Poll in progress returns an
// error matching transport.ErrClosed.
func (f *fetcher) Close() error {
	f.closeOnce.Do(func() {
		f.closed.Store(true)
		close(f.done)
		f.assignMu.Lock()
		f.pollMu.Lock() // a Poll notices closed within one poll slice
		if f.c != nil {
			if f.owned {
				// librdkafka's close waits for the fetch in flight, up
				// to its long poll, and must not begin while a wait
				// aside is still polling: let both finish aside, so
				// that Close is prompt; Transport.Close waits for them.
				c := f.c
				f.t.closing.Go(func() {
					f.asides.Wait()
					_ = c.Close()
				})
			} else {
				_ = f.c.Unassign()
			}
		}
		f.pollMu.Unlock()
		f.assignMu.Unlock()
		f.release()
	})
	return nil
}

func (f *fetcher) release() {
	f.t.mu.Lock()
	delete(f.t.fetchers, f)
	if !f.owned && f.c != nil {
		f.t.busy = false
	}
	f.t.mu.Unlock()
}

// fetchErr classifies an error a fetch session reported. A partition that
// is "no longer available" to an assigned consumer is one whose topic (or
// the partition itself) is gone from the metadata: reported as an unknown
// topic, which the core confirms with Partitions (X3).
func fetchErr(topic string, err error) error {
	if code(err) == kafka.ErrUnknownPartition {
		return transport.NewError("fetch", topic, transport.ErrUnknownTopic, err)
	}
	return wrap(context.Background(), "fetch", topic, err)
}

func isTopic(tp kafka.TopicPartition, topic string) bool {
	return tp.Topic != nil && *tp.Topic == topic
}

func code(err error) kafka.ErrorCode {
	if ke, ok := errors.AsType[kafka.Error](err); ok {
		return ke.Code()
	}
	return kafka.ErrNoError
}

func fromMessage(m *kafka.Message) transport.Record {
	rec := transport.Record{
		Key:       m.Key,
		Value:     m.Value,
		Timestamp: m.Timestamp,
		Partition: m.TopicPartition.Partition,
		Offset:    int64(m.TopicPartition.Offset),
	}
	if len(m.Headers) > 0 {
		rec.Headers = make([]transport.Header, len(m.Headers))
		for i, h := range m.Headers {
			rec.Headers[i] = transport.Header{Key: h.Key, Value: h.Value}
		}
	}
	return rec
}
