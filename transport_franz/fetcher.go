package franztransport

import (
	"context"
	"errors"
	"fmt"
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
	offsets := make(map[int32]kgo.Offset, len(from))
	pos := make(map[int32]int64, len(from))
	for p, o := range from {
		if o < 0 {
			return nil, transport.NewError(op, topic, transport.ErrInvalidRequest, fmt.Errorf("negative position %d for partition %d", o, p))
		}
		offsets[p] = kgo.NewOffset().At(o)
		pos[p] = o
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
		gen:     make(map[int32]uint64, len(from)),
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		cl.Close()
		return nil, closedErr(op, topic)
	}
	t.fetchers[f] = struct{}{}
	t.mu.Unlock()
	return f, nil
}

// maxPollRecords caps one Poll. kgo keeps the rest buffered for the next
// one, so a catch-up hands the core moderate batches instead of one slice of
// every record fetched (against kfake a single fetch can carry 100k records,
// an 11 MB batch the garbage collector then scans while it is applied).
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

	mu      sync.Mutex
	closed  bool
	pos     map[int32]int64  // next offset to deliver, per assigned partition
	gen     map[int32]uint64 // bumped by Assign: drains from before are stale
	pending error            // an error held back while records were delivered

	closeOnce sync.Once
}

// Poll returns the records kgo has fetched, waiting up to the session's max
// wait when none are buffered.
func (f *fetcher) Poll(ctx context.Context) (transport.Batch, error) {
	const op = "fetch"
	if err := ctx.Err(); err != nil {
		return transport.Batch{}, err
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return transport.Batch{}, closedErr(op, f.topic)
	}
	if err := f.pending; err != nil {
		f.pending = nil
		f.mu.Unlock()
		return transport.Batch{}, err
	}
	gens := make(map[int32]uint64, len(f.gen))
	for p, g := range f.gen {
		gens[p] = g
	}
	f.mu.Unlock()

	wctx, stop := f.t.sasl.watch(ctx)
	defer stop()
	pctx, cancel := context.WithTimeout(wctx, f.maxWait)
	fs := f.cl.PollRecords(pctx, maxPollRecords)
	cancel()
	if se, ok := errors.AsType[*errSASLClosed](context.Cause(wctx)); ok && ctx.Err() == nil && len(fs.Records()) == 0 {
		return transport.Batch{}, transport.NewError(op, f.topic, transport.ErrAuthentication, se)
	}

	var (
		batch    transport.Batch
		firstErr error
		reset    []int32
	)
	if n := fs.NumRecords(); n > 0 {
		batch.Records = make([]transport.Record, 0, n) // one allocation, no regrowth
	}
	f.mu.Lock()
	for _, ft := range fs {
		for _, tp := range ft.Topics {
			for _, fp := range tp.Partitions {
				if fp.Err != nil {
					switch {
					case errors.Is(fp.Err, context.Canceled), errors.Is(fp.Err, context.DeadlineExceeded):
						// The poll's own wait ended, or ctx: see below.
					case errors.Is(fp.Err, kgo.ErrClientClosed):
						if firstErr == nil {
							firstErr = closedErr(op, f.topic)
						}
					case errors.Is(fp.Err, kerr.OffsetOutOfRange) && tp.Topic == f.topic:
						reset = append(reset, fp.Partition)
					case errors.Is(fp.Err, kerr.UnknownTopicOrPartition), errors.Is(fp.Err, kerr.UnknownTopicID):
						if firstErr == nil {
							firstErr = fp.Err // confirmed below
						}
					default:
						if firstErr == nil {
							firstErr = wrap(context.Background(), op, f.topic, fp.Err)
						}
					}
				}
				if tp.Topic != f.topic || len(fp.Records) == 0 {
					continue
				}
				p := fp.Partition
				pos, assigned := f.pos[p]
				if !assigned || f.gen[p] != gens[p] {
					continue // fetched for a position Assign replaced
				}
				start := pos
				for _, r := range fp.Records {
					if r.Offset < pos {
						continue
					}
					pos = r.Offset + 1
					if r.Attrs.IsControl() {
						continue // a transaction marker: advances, not a record
					}
					batch.Records = append(batch.Records, fromKgo(r))
				}
				if pos != start {
					f.pos[p] = pos
					if batch.Next == nil {
						batch.Next = make(map[int32]int64)
					}
					batch.Next[p] = pos
				}
			}
		}
	}
	f.mu.Unlock()

	if len(reset) > 0 {
		if err := f.resetOutOfRange(ctx, reset, gens, &batch); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if isUnknownTopic(firstErr) {
		firstErr = f.confirmUnknown(ctx, firstErr)
	}
	delivered := len(batch.Records) > 0 || len(batch.Next) > 0
	if firstErr != nil {
		if cerr := ctx.Err(); cerr != nil && !delivered {
			return transport.Batch{}, cerr
		}
		if delivered { // deliver what arrived; report the error next time
			f.mu.Lock()
			f.pending = firstErr
			f.mu.Unlock()
			return batch, nil
		}
		return transport.Batch{}, firstErr
	}
	if !delivered {
		if err := ctx.Err(); err != nil {
			return transport.Batch{}, err
		}
	}
	return batch, nil
}

func isUnknownTopic(err error) bool {
	if _, ok := errors.AsType[*transport.Error](err); ok {
		return false
	}
	return errors.Is(err, kerr.UnknownTopicOrPartition) || errors.Is(err, kerr.UnknownTopicID)
}

// confirmUnknown classifies an unknown-topic fetch error. Real Kafka answers
// UNKNOWN_TOPIC_OR_PARTITION or UNKNOWN_TOPIC_ID for a short while after a
// topic is created, until every broker has the new metadata; a fetch session
// opened right after EnsureTopic may see it. So the error is fatal only when
// the transport's metadata confirms the topic is gone; otherwise it is
// reported as retriable.
func (f *fetcher) confirmUnknown(ctx context.Context, native error) error {
	const op = "fetch"
	_, err := f.t.Partitions(ctx, f.topic)
	switch {
	case err == nil:
		e := transport.NewError(op, f.topic, transport.ErrUnknownTopic, native)
		e.Retriable = true // known to the cluster: propagation lag
		return e
	case errors.Is(err, transport.ErrUnknownTopic):
		return wrap(ctx, op, f.topic, native)
	default:
		return err // could not tell: that error's class
	}
}

// resetOutOfRange moves partitions whose position fell out of the log (below
// the log start after compaction, retention or DeleteRecords; or past the
// end after a truncation) to the log start, as auto.offset.reset=earliest
// does, and reports the new position in batch.Next even when no record
// follows it.
func (f *fetcher) resetOutOfRange(ctx context.Context, parts []int32, gens map[int32]uint64, batch *transport.Batch) error {
	const op = "fetch"
	starts, err := listOffsets(ctx, f.t.sasl, f.cl, op, f.topic, parts, -2, false)
	if err != nil {
		return err
	}
	ends, err := listOffsets(ctx, f.t.sasl, f.cl, op, f.topic, parts, -1, false)
	if err != nil {
		return err
	}
	set := make(map[int32]kgo.EpochOffset, len(parts))
	f.mu.Lock()
	for _, p := range parts {
		pos, assigned := f.pos[p]
		if !assigned || f.gen[p] != gens[p] {
			continue // Assign moved it meanwhile
		}
		if pos >= starts[p] && pos <= ends[p] {
			// In range again (a leader change?): fetch at pos again.
			set[p] = kgo.EpochOffset{Epoch: -1, Offset: pos}
			continue
		}
		pos = starts[p]
		f.pos[p] = pos
		set[p] = kgo.EpochOffset{Epoch: -1, Offset: pos}
		if batch.Next == nil {
			batch.Next = make(map[int32]int64)
		}
		batch.Next[p] = pos
	}
	f.mu.Unlock()
	if len(set) > 0 {
		f.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{f.topic: set})
	}
	return nil
}

// Assign starts fetching new partitions, or moves fetched ones, to the given
// positions.
func (f *fetcher) Assign(positions map[int32]int64) error {
	const op = "assign"
	if len(positions) == 0 {
		return nil
	}
	add := make(map[int32]kgo.Offset, len(positions))
	set := make(map[int32]kgo.EpochOffset, len(positions))
	for p, o := range positions {
		if o < 0 {
			return transport.NewError(op, f.topic, transport.ErrInvalidRequest, fmt.Errorf("negative position %d for partition %d", o, p))
		}
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return closedErr(op, f.topic)
	}
	for p, o := range positions {
		add[p] = kgo.NewOffset().At(o)
		if _, known := f.pos[p]; known {
			set[p] = kgo.EpochOffset{Epoch: -1, Offset: o}
		}
		f.pos[p] = o
		f.gen[p]++
	}
	// Under f.mu so that concurrent Assigns reach kgo in the order they
	// changed f.pos. AddConsumePartitions first: a partition kgo has not
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
		f.t.mu.Lock()
		delete(f.t.fetchers, f)
		f.t.mu.Unlock()
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
