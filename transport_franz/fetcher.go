package franztransport

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables/transport"
)

// NewFetcher opens a fetch session over topic from the given positions. The
// session is a dedicated kgo client (see New) that keeps long-poll fetches
// in flight between polls. (X3)
func (t *Transport) NewFetcher(ctx context.Context, topic string, from map[int32]int64, opts transport.FetchOptions) (transport.Fetcher, error) {
	const op = "fetch"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t.fetchErr != nil {
		return nil, t.fetchErr
	}
	maxWait := opts.MaxWait
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	maxWait = max(maxWait, minMaxWait)
	pos, err := transport.NewPositions(op, topic, from)
	if err != nil {
		return nil, err
	}
	offsets := make(map[int32]kgo.Offset, len(from))
	for p, o := range from {
		offsets[p] = kgo.NewOffset().At(o)
	}
	extra := []kgo.Opt{kgo.FetchMaxWait(maxWait)}
	if opts.MaxBytes > 0 {
		extra = append(extra, kgo.FetchMaxBytes(opts.MaxBytes))
	}
	extra = append(extra, kgo.WithHooks(t.sasl))
	cl, err := kgo.NewClient(fetchOpts(t.base, topic, offsets, extra...)...)
	if err != nil {
		return nil, transport.NewError(op, topic, transport.ErrInvalidConfig, err)
	}
	f := &fetcher{
		t:       t,
		cl:      cl,
		topic:   topic,
		maxWait: maxWait,
		pos:     pos,
		lso:     isReadCommitted(cl),
	}
	if !t.sessions.Add(f) {
		cl.Close()
		return nil, closedErr(op, topic)
	}
	return f, nil
}

// maxPollRecords caps one Poll. A Poll takes every record kgo has buffered
// (PollFetches): kgo sends its next fetch only once its buffered fetch is
// taken whole, so taking part of it (PollRecords) left the broker idle
// while the core applied the rest (issue 17: at 16 partitions one fetch
// holds about 100k records). The session keeps what it took and hands the
// core at most this many records per Poll (held.go), so a catch-up still
// applies moderate batches instead of one slice of every record fetched,
// an 11 MB batch the garbage collector then scans while it is applied.
const maxPollRecords = 8192

// minMaxWait is the shortest long poll kgo accepts.
const minMaxWait = 10 * time.Millisecond

// fetcher is one fetch session: a kgo direct consumer of explicit
// partitions of one topic.
type fetcher struct {
	t       *Transport
	cl      *kgo.Client
	topic   string
	maxWait time.Duration

	pos *transport.Positions
	lso bool // read committed: report last stable offsets

	// held are records taken from kgo and not yet handed over (held.go).
	// Only Poll touches them.
	held []heldPart

	mu     sync.Mutex
	closed bool

	closeOnce sync.Once
}

// Poll returns the records kgo has fetched, waiting up to the session's
// max wait when none are buffered, with the first error.
func (f *fetcher) Poll(ctx context.Context) (transport.Batch, error) {
	const op = "fetch"
	if err := ctx.Err(); err != nil {
		return transport.Batch{}, err
	}
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return transport.Batch{}, closedErr(op, f.topic)
	}
	if len(f.held) > 0 {
		// The rest of the last fetch, before kgo is asked for more: its
		// next fetch is on its way meanwhile.
		var b transport.Batch
		f.handOver(&b, f.pos.Snapshot())
		if !b.Empty() {
			return transport.PollResult(ctx, b, nil)
		}
		// Assign moved every partition held: fetch afresh.
	}
	marks := f.pos.Snapshot()

	wctx, stop := f.t.sasl.watch(ctx)
	defer stop()
	pctx, cancel := context.WithTimeout(wctx, f.maxWait)
	fs := f.cl.PollFetches(pctx)
	cancel()
	if se, ok := errors.AsType[*transport.SASLClosedError](context.Cause(wctx)); ok && ctx.Err() == nil && len(fs.Records()) == 0 {
		return transport.Batch{}, transport.NewError(op, f.topic, transport.ErrAuthentication, se)
	}

	var (
		b          transport.Batch
		firstErr   error
		outOfRange []int32
	)
	for _, ft := range fs {
		for _, tp := range ft.Topics {
			for _, fp := range tp.Partitions {
				switch err := fp.Err; {
				case err == nil:
				case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
					// The poll's own wait ended, or ctx: see PollResult.
				case errors.Is(err, kgo.ErrClientClosed):
					firstErr = cmp.Or(firstErr, closedErr(op, f.topic))
				case errors.Is(err, kerr.OffsetOutOfRange) && tp.Topic == f.topic:
					outOfRange = append(outOfRange, fp.Partition)
				default:
					// An unknown topic is the core's to confirm (X3).
					firstErr = cmp.Or(firstErr, wrap(context.Background(), op, f.topic, err))
				}
				m, asked := marks[fp.Partition]
				if tp.Topic != f.topic || !asked || !f.pos.Current(fp.Partition, m) {
					continue // fetched for a position Assign replaced
				}
				hw := fp.HighWatermark
				if f.lso {
					hw = fp.LastStableOffset
				}
				b.SetHighWatermark(fp.Partition, hw)
				if len(fp.Records) > 0 {
					f.held = append(f.held, heldPart{p: fp.Partition, m: m, hw: hw, recs: fp.Records})
				}
			}
		}
	}
	f.handOver(&b, marks)
	if firstErr == nil && len(outOfRange) > 0 {
		firstErr = transport.OutOfRange(op, f.topic, outOfRange, kerr.OffsetOutOfRange)
	}
	return transport.PollResult(ctx, b, firstErr)
}

// Assign starts fetching new partitions, or moves fetched ones, to the given
// positions.
func (f *fetcher) Assign(positions map[int32]int64) error {
	const op = "assign"
	if len(positions) == 0 {
		return nil
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return closedErr(op, f.topic)
	}
	moved, err := f.pos.Assign(op, f.topic, positions)
	if err != nil {
		f.mu.Unlock()
		return err
	}
	add := make(map[int32]kgo.Offset, len(positions))
	for p, o := range positions {
		add[p] = kgo.NewOffset().At(o)
	}
	set := make(map[int32]kgo.EpochOffset, len(moved))
	for _, p := range moved {
		set[p] = kgo.EpochOffset{Epoch: -1, Offset: positions[p]}
	}
	// Under f.mu so that concurrent Assigns reach kgo in the order they
	// changed the positions. AddConsumePartitions first: a partition kgo has not
	// started yet takes its offset from there; SetOffsets moves one that
	// is running (and drops its buffered fetches).
	f.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{f.topic: add})
	if len(set) > 0 {
		f.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{f.topic: set})
	}
	f.mu.Unlock()
	return nil
}

// Close ends the session and closes its client. A Poll in progress returns
// an error matching transport.ErrClosed.
func (f *fetcher) Close() error {
	f.closeOnce.Do(func() {
		f.mu.Lock()
		f.closed = true
		f.mu.Unlock()
		f.cl.Close()
		f.t.sessions.Remove(f)
	})
	return nil
}

func fromKgo(r *kgo.Record) transport.Record {
	rec := transport.Record{
		Key:       r.Key,
		Value:     r.Value,
		Timestamp: r.Timestamp,
		Partition: r.Partition,
		Offset:    r.Offset,
	}
	if len(r.Headers) > 0 {
		rec.Headers = make([]transport.Header, len(r.Headers))
		for i, h := range r.Headers {
			rec.Headers[i] = transport.Header{Key: h.Key, Value: h.Value}
		}
	}
	return rec
}
