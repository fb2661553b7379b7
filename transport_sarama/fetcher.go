package saramatransport

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/ktables/ktables/transport"
)

// defaultFetchMaxBytes caps one fetch response when neither
// FetchOptions.MaxBytes nor Consumer.Fetch.Max says (Kafka's default).
const defaultFetchMaxBytes = 50 << 20

// fetchGrace is how long past its max wait a Poll waits for an in-flight
// fetch before returning empty (the fetch stays in flight).
const fetchGrace = time.Second

// NewFetcher opens a fetch session over topic from the given positions.
//
// A session is a raw fetch loop, not sarama's Consumer: it sends
// sarama.FetchRequest (v10, or v11 from protocol 2.3, with the configured
// isolation level) on broker connections of its own, one per partition
// leader, opened from the transport's config. sarama serializes the
// requests of one *sarama.Broker (it holds the broker's lock for a whole
// round trip), so sharing the main client's connections would put every
// ListOffsets behind the long poll; with its own connections, a long poll
// delays nothing else. The next position of a partition is computed per
// record batch (base offset + last offset delta + 1), so it moves past
// transaction markers, aborted batches and compaction holes, where sarama's
// consumer can stall. Positions and the Poll contract are package
// transport's (X3, ADR 7).
func (t *Transport) NewFetcher(ctx context.Context, topic string, from map[int32]int64, opts transport.FetchOptions) (transport.Fetcher, error) {
	const op = "fetch"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	maxWait := opts.MaxWait
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	maxWait = max(maxWait, time.Millisecond)
	maxBytes := opts.MaxBytes
	if maxBytes <= 0 {
		maxBytes = t.cfg.Consumer.Fetch.Max
	}
	if maxBytes <= 0 {
		maxBytes = defaultFetchMaxBytes
	}
	pos, err := transport.NewPositions(op, topic, from)
	if err != nil {
		return nil, err
	}
	client, err := t.client(ctx)
	if err != nil {
		return nil, t.finish(ctx, op, topic, err)
	}
	cfg := clone(t.cfg)
	d := newDialer(cfg, t.sasl)
	d.install(cfg)
	f := &fetcher{
		t:         t,
		client:    client,
		topic:     topic,
		cfg:       cfg,
		dial:      d,
		maxWait:   maxWait,
		maxBytes:  maxBytes,
		results:   make(chan fetchResult, 16),
		done:      make(chan struct{}),
		pos:       pos,
		fetchSize: make(map[int32]int32),
		conns:     make(map[int32]*sarama.Broker),
		inflight:  make(map[int32]bool),
	}
	if !t.sessions.Add(f) {
		d.Close()
		return nil, closedErr(op, topic)
	}
	return f, nil
}

// fetcher is one fetch session. Fetch requests run in goroutines, at most
// one per leader broker, and stay in flight between polls: a Poll that ends
// early (its context) leaves them running, and the next Poll takes their
// results. A session fetching from one leader over one connection, with
// nothing in flight, sends its fetch on the Poll's goroutine instead; a
// Poll that ends early then closes that connection under the request. Results are checked against the positions they were requested
// for, so results made stale by Assign are dropped.
type fetcher struct {
	t        *Transport
	client   sarama.Client // the transport's, for leaders and metadata
	topic    string
	cfg      *sarama.Config // of the session's connections (dialing through dial)
	dial     *dialer
	maxWait  time.Duration
	maxBytes int32

	results chan fetchResult
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup

	refreshing atomic.Bool // a metadata refresh is running

	pos *transport.Positions

	mu        sync.Mutex
	closed    bool
	fetchSize map[int32]int32 // per-partition bytes, grown past oversized batches
	conns     map[int32]*sarama.Broker
	inflight  map[int32]bool // by broker id

	closeOnce sync.Once
}

type fetchResult struct {
	broker int32
	conn   *sarama.Broker
	parts  map[int32]transport.Mark
	resp   *sarama.FetchResponse
	err    error
	cut    bool // an inline fetch that ctx ended
}

// Poll starts fetches for partitions whose leader has none in flight, waits
// for the first result (up to the long poll), and returns every result
// that has arrived, with the first error.
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

	// A lone fetch, with no answer waiting, is sent on this goroutine: a
	// fetch goroutine would only add a hand-off to a record's way to the
	// table (issue 17: propagation latency).
	inflight, inline, leaderErr := f.launch(len(f.results) == 0)
	if leaderErr != nil && inflight == 0 {
		return transport.Batch{}, f.leaderError(ctx, leaderErr)
	}
	var rs []fetchResult
	if inline != nil {
		r := f.fetchInline(ctx, inline)
		f.mu.Lock()
		closed := f.closed
		if r.cut || closed {
			f.inflight[inline.id] = false
			f.dropConnLocked(inline.id, inline.conn)
		}
		f.mu.Unlock()
		switch {
		case closed:
			return transport.Batch{}, closedErr(op, f.topic)
		case r.cut:
			return transport.Batch{}, ctx.Err()
		}
		rs = append(rs, r)
	} else if inflight > 0 {
		timer := time.NewTimer(f.maxWait + fetchGrace)
		select {
		case r := <-f.results:
			rs = append(rs, r)
		case <-ctx.Done():
			timer.Stop()
			return transport.Batch{}, ctx.Err()
		case <-f.done:
			timer.Stop()
			return transport.Batch{}, closedErr(op, f.topic)
		case <-timer.C:
		}
		timer.Stop()
	drain:
		for {
			select {
			case r := <-f.results:
				rs = append(rs, r)
			default:
				break drain
			}
		}
	}

	b, outOfRange, err := f.process(rs)
	switch {
	case err != nil:
		err = f.t.finish(ctx, op, f.topic, err) // an unknown topic is the core's to confirm (X3)
	case leaderErr != nil:
		err = f.leaderError(ctx, leaderErr)
	case len(outOfRange) > 0:
		err = transport.OutOfRange(op, f.topic, outOfRange, sarama.ErrOffsetOutOfRange)
	}
	return transport.PollResult(ctx, b, err)
}

// process turns fetch results into a batch. It returns the partitions
// whose position is out of range, and the first error.
func (f *fetcher) process(rs []fetchResult) (transport.Batch, []int32, error) {
	var (
		b          transport.Batch
		outOfRange []int32
		firstErr   error
	)
	readCommitted := f.cfg.Consumer.IsolationLevel == sarama.ReadCommitted
	// Sized once from the responses: appending record by record would
	// regrow (and copy) the slice about log2(n) times per poll.
	if n := countRecords(f.topic, rs); n > 0 {
		b.Records = make([]transport.Record, 0, n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range rs {
		f.inflight[r.broker] = false
		if r.err != nil {
			// The connection is broken (sarama closed it) or the
			// request was refused: start over on a new one.
			f.dropConnLocked(r.broker, r.conn)
			f.refresh()
			if firstErr == nil && !f.closed {
				firstErr = r.err
			}
			continue
		}
		for _, p := range slices.Sorted(maps.Keys(r.parts)) {
			m := r.parts[p]
			blk := r.resp.GetBlock(f.topic, p)
			if blk == nil || !f.pos.Current(p, m) {
				continue // fetched for a position that has moved since
			}
			if readCommitted {
				b.SetHighWatermark(p, blk.LastStableOffset)
			} else {
				b.SetHighWatermark(p, blk.HighWaterMarkOffset)
			}
			switch {
			case blk.Err == sarama.ErrNoError:
			case blk.Err == sarama.ErrOffsetOutOfRange:
				outOfRange = append(outOfRange, p)
				continue
			default:
				if isLeadershipErr(blk.Err) {
					f.refresh()
				}
				if firstErr == nil {
					firstErr = blk.Err
				}
				continue
			}
			next, partial := appendBlock(&b, p, m.Offset, blk, readCommitted)
			if partial && next == m.Offset {
				// The next batch is bigger than the partition's fetch
				// size: ask for more next time (as sarama's consumer
				// does).
				size := f.fetchSize[p]
				if size <= 0 {
					size = f.cfg.Consumer.Fetch.Default
				}
				f.fetchSize[p] = min(size*2, 1<<30)
			}
			f.pos.Advance(&b, p, m, next)
		}
	}
	return b, outOfRange, firstErr
}

// leaderError classifies an error looking up partition leaders; an
// unknown topic is the core's to confirm (X3).
func (f *fetcher) leaderError(ctx context.Context, err error) error {
	if ctx.Err() == nil && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		f.refresh()
	}
	return f.t.finish(ctx, "fetch", f.topic, err)
}

// Assign starts fetching new partitions, or moves fetched ones, to the given
// positions. It does no network I/O: the next Poll fetches from there.
func (f *fetcher) Assign(positions map[int32]int64) error {
	const op = "assign"
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return closedErr(op, f.topic)
	}
	_, err := f.pos.Assign(op, f.topic, positions)
	return err
}

// Close ends the session: it closes the session's sockets, which ends a
// fetch in flight at once, waits for the fetch goroutines and closes the
// broker connections. A Poll in progress returns an error matching
// transport.ErrClosed.
func (f *fetcher) Close() error {
	f.closeOnce.Do(func() {
		f.mu.Lock()
		f.closed = true
		f.mu.Unlock()
		close(f.done)
		f.dial.Close()
		f.wg.Wait()
		f.mu.Lock()
		conns := f.conns
		f.conns = nil
		f.mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
		f.t.sessions.Remove(f)
	})
	return nil
}
