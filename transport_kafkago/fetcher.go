package kafkagotransport

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	fetchAPI "github.com/segmentio/kafka-go/protocol/fetch"

	"github.com/ktables/ktables/transport"
)

// Fetch sizes used when FetchOptions.MaxBytes is zero: Kafka's
// fetch.max.bytes and max.partition.fetch.bytes defaults.
const (
	DefaultFetchMaxBytes     = 50 << 20
	DefaultPartitionMaxBytes = 1 << 20
)

// NewFetcher opens a fetch session over topic from the given positions. A
// session holds no connection of its own: it sends Fetch requests
// (protocol/fetch) through the client's transport, one per partition
// leader, or several for a leader whose partitions have records waiting
// (split.go, round.go; opts.Ends says which before any answer). Positions
// and the Poll contract are package transport's (X3, ADR 7).
func (t *Transport) NewFetcher(ctx context.Context, topic string, from map[int32]int64, opts transport.FetchOptions) (transport.Fetcher, error) {
	const op = "fetch"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pos, err := transport.NewPositions(op, topic, from)
	if err != nil {
		return nil, err
	}
	maxWait := opts.MaxWait
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	maxWait = max(maxWait, time.Millisecond) // the wire carries milliseconds
	maxBytes := opts.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultFetchMaxBytes
	}
	fctx, cancel := context.WithCancel(context.Background())
	f := &fetcher{
		t:        t,
		topic:    topic,
		maxWait:  maxWait,
		maxBytes: maxBytes,
		partMax:  min(maxBytes, DefaultPartitionMaxBytes),
		ctx:      fctx,
		cancel:   cancel,
		pos:      pos,
		hw:       maps.Clone(opts.Ends),
	}
	if f.hw == nil {
		f.hw = make(map[int32]int64)
	}
	if t.cfg.readCommitted {
		f.isolation = 1
	}
	if !t.sessions.Add(f) {
		cancel()
		return nil, closedErr(op, topic)
	}
	return f, nil
}

// fetcher is one fetch session: explicit positions of partitions of one
// topic, advanced by the responses of Fetch requests.
type fetcher struct {
	t         *Transport
	topic     string
	maxWait   time.Duration
	maxBytes  int32
	partMax   int32
	isolation int8

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	pos    *transport.Positions

	lastRecords int // records the last Poll returned (Poll is not concurrent)
	// hw is the high watermark each partition's last answer reported, or
	// the end offset the session opened with (split.go). Only Poll
	// touches it.
	hw map[int32]int64

	// round is the requests in flight whose answers are not all taken
	// (round.go). Only Poll touches it.
	round  *round
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // the rounds' requests
}

// Poll hands over the answers of the round in flight that have arrived
// (sending a round first if none is: one Fetch request per partition
// leader, several where records wait), long-polling up to the session's
// max wait, with the first error.
func (f *fetcher) Poll(ctx context.Context) (transport.Batch, error) {
	const op = "fetch"
	if err := ctx.Err(); err != nil {
		return transport.Batch{}, err
	}
	if f.ctx.Err() != nil {
		return transport.Batch{}, closedErr(op, f.topic)
	}
	marks := f.pos.Snapshot()

	// Poll ends early on ctx or Close.
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(f.ctx, cancel)()

	if f.round != nil && !f.round.serves(marks) {
		f.round.abandon() // Assign moved or added partitions: fetch afresh
		f.round = nil
	}
	var reqs []leaderFetch
	if f.round == nil {
		var err error
		reqs, err = f.requests(pctx, marks)
		if err != nil {
			return transport.Batch{}, f.ctxErr(ctx, err)
		}
		if len(reqs) == 0 {
			// Nothing to fetch (no partitions, or none the client's metadata
			// can route yet): wait like an empty long poll.
			timer := time.NewTimer(f.maxWait)
			defer timer.Stop()
			select {
			case <-timer.C:
				return transport.Batch{}, nil
			case <-pctx.Done():
				return transport.Batch{}, f.ctxErr(ctx, pctx.Err())
			}
		}
	}
	var (
		r       *round
		answers []answer
	)
	if f.round == nil && len(reqs) == 1 && !reqs[0].busy {
		// One long poll at the head: sent and decoded on this goroutine,
		// as a round would only add a hand-off to a record's way to the
		// table (issue 17: propagation latency).
		r, answers = f.inline(pctx, reqs[0], marks)
	} else {
		if f.round == nil {
			if f.round = f.startRound(reqs, marks); f.round == nil {
				return transport.Batch{}, closedErr(op, f.topic)
			}
		}
		r = f.round
		var err error
		if answers, err = r.take(pctx); err != nil {
			return transport.Batch{}, f.ctxErr(ctx, err) // the round goes on for the next Poll
		}
	}

	var (
		b          transport.Batch
		firstErr   error
		outOfRange []int32
	)
	if n, withRecords := countRecords(answers); withRecords > 1 {
		b.Records = make([]transport.Record, 0, n)
	}
	for _, a := range answers {
		if a.err != nil {
			if firstErr == nil && pctx.Err() == nil {
				firstErr = a.err
			}
			continue
		}
		if b.Records == nil {
			b.Records = a.records // the only answer with records: not copied
		} else {
			b.Records = append(b.Records, a.records...)
		}
		for _, dp := range a.parts {
			b.SetHighWatermark(dp.p, dp.hw)
			switch {
			case dp.code == kafka.OffsetOutOfRange:
				outOfRange = append(outOfRange, dp.p)
				continue
			case dp.code != 0:
				if firstErr == nil {
					firstErr = dp.code
				}
				continue
			}
			f.pos.Advance(&b, dp.p, dp.m, dp.next)
			if dp.err != nil && firstErr == nil {
				firstErr = dp.err
			}
		}
	}
	f.noteHighWatermarks(&b)
	r.behind = r.behind || len(b.Records) > 0 && behindHead(&b)
	if r.done() {
		f.round = nil
		f.lastRecords = r.taken + len(b.Records)
		if firstErr == nil && len(outOfRange) == 0 && r.behind {
			f.aheadOfNextPoll()
		}
	} else {
		r.taken += len(b.Records)
	}
	switch {
	case firstErr != nil:
		firstErr = f.ctxErr(ctx, f.t.wrap(pctx, op, f.topic, firstErr))
	case len(outOfRange) > 0:
		firstErr = transport.OutOfRange(op, f.topic, outOfRange, kafka.OffsetOutOfRange)
	}
	return transport.PollResult(pctx, b, firstErr)
}

// aheadOfNextPoll starts the next round for the current positions, so the
// broker prepares its answers while the core applies this Poll's records.
func (f *fetcher) aheadOfNextPoll() {
	marks := f.pos.Snapshot()
	reqs, err := f.requests(f.ctx, marks)
	if err != nil || len(reqs) == 0 {
		return // the next Poll builds them and reports the error
	}
	f.round = f.startRound(reqs, marks)
}

// ctxErr is what Poll returns when it was interrupted: ErrClosed after
// Close, ctx's error when ctx ended, else err.
func (f *fetcher) ctxErr(ctx context.Context, err error) error {
	if f.ctx.Err() != nil {
		return closedErr("fetch", f.topic)
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// requests builds the Fetch requests for marks from the client's metadata
// cache: per partition leader, its partitions with records waiting (as far
// as the known high watermarks tell) spread over up to splitWays requests,
// those at the head riding along in one of them, or one request when none
// is waiting (split.go). Partitions the cache does not know yet (just
// added) wait for its next refresh.
func (f *fetcher) requests(ctx context.Context, marks map[int32]transport.Mark) ([]leaderFetch, error) {
	if len(marks) == 0 {
		return nil, nil
	}
	mt, err := f.t.cachedTopic(ctx, f.topic)
	if err != nil {
		// An unknown topic is the core's to confirm (X3).
		return nil, f.t.wrap(ctx, "fetch", f.topic, err)
	}
	leaders := make(map[int32]int, len(mt.Partitions))
	for _, p := range mt.Partitions {
		leaders[int32(p.ID)] = p.Leader.ID
	}
	type leaderParts struct{ idle, busy []fetchAPI.RequestPartition }
	byLeader := make(map[int]*leaderParts)
	missing := int32(-1)
	for p, m := range marks {
		leader, ok := leaders[p]
		if !ok {
			missing = max(missing, p)
			continue
		}
		lp := byLeader[leader]
		if lp == nil {
			lp = &leaderParts{}
			byLeader[leader] = lp
		}
		rp := fetchAPI.RequestPartition{
			Partition:          p,
			CurrentLeaderEpoch: -1,
			FetchOffset:        m.Offset,
			LogStartOffset:     -1,
			PartitionMaxBytes:  f.partMax,
		}
		if end, ok := f.hw[p]; ok && m.Offset < end {
			lp.busy = append(lp.busy, rp)
		} else {
			lp.idle = append(lp.idle, rp)
		}
	}
	if missing >= 0 {
		// Partitions assigned after they were added: the cache lags.
		// Refresh it; they join the next poll.
		f.t.warm(ctx, f.topic, int(missing)+1)
	}
	lag := func(rp fetchAPI.RequestPartition) int64 { return f.hw[rp.Partition] - rp.FetchOffset }
	ways := splitWays()
	var reqs []leaderFetch
	for _, lp := range byLeader {
		if len(lp.busy) == 0 {
			reqs = append(reqs, leaderFetch{req: f.request(lp.idle)})
			continue
		}
		groups := spread(lp.busy, lag, ways)
		// The leader's partitions at the head ride along in its last
		// group, which answers at once since its busy partitions have
		// records: every partition's high watermark comes back in every
		// round, as with one request per leader, instead of a long poll
		// cut short before it answered.
		last := len(groups) - 1
		groups[last] = append(groups[last], lp.idle...)
		for _, g := range groups {
			reqs = append(reqs, leaderFetch{req: f.request(g), busy: true})
		}
	}
	return reqs, nil
}

// request is one Fetch request for parts.
func (f *fetcher) request(parts []fetchAPI.RequestPartition) *fetchAPI.Request {
	slices.SortFunc(parts, func(a, b fetchAPI.RequestPartition) int { return int(a.Partition - b.Partition) })
	return &fetchAPI.Request{
		ReplicaID:      -1,
		MaxWaitTime:    int32(f.maxWait / time.Millisecond),
		MinBytes:       1,
		MaxBytes:       f.maxBytes,
		IsolationLevel: f.isolation,
		SessionID:      0, // no fetch session (KIP-227): a full fetch each time
		SessionEpoch:   -1,
		Topics:         []fetchAPI.RequestTopic{{Topic: f.topic, Partitions: parts}},
	}
}

// Assign starts fetching new partitions, or moves fetched ones, to the given
// positions.
func (f *fetcher) Assign(positions map[int32]int64) error {
	if f.ctx.Err() != nil {
		return closedErr("assign", f.topic)
	}
	_, err := f.pos.Assign("assign", f.topic, positions)
	return err
}

// Close ends the session. A Poll in progress returns an error matching
// transport.ErrClosed.
func (f *fetcher) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.cancel()
	f.wg.Wait() // a round's requests end with the cancel
	f.t.sessions.Remove(f)
	return nil
}
