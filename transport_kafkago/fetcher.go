package kafkagotransport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
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
// session holds no connection of its own: each Poll sends one Fetch request
// (protocol/fetch) per partition leader through the client's transport. (X3)
func (t *Transport) NewFetcher(ctx context.Context, topic string, from map[int32]int64, opts transport.FetchOptions) (transport.Fetcher, error) {
	const op = "fetch"
	if err := ctx.Err(); err != nil {
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
	pos := make(map[int32]int64, len(from))
	for p, o := range from {
		if o < 0 {
			return nil, transport.NewError(op, topic, transport.ErrInvalidRequest, fmt.Errorf("negative position %d for partition %d", o, p))
		}
		pos[p] = o
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
		gen:      make(map[int32]uint64, len(from)),
	}
	if t.cfg.readCommitted {
		f.isolation = 1
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		cancel()
		return nil, closedErr(op, topic)
	}
	t.fetchers[f] = struct{}{}
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

	mu      sync.Mutex
	closed  bool
	pos     map[int32]int64  // next offset to fetch, per assigned partition
	gen     map[int32]uint64 // bumped by Assign: responses from before are stale
	pending error            // an error held back while records were delivered
}

// fetchResult is the answer of one Fetch request (one partition leader).
type fetchResult struct {
	resp *fetchAPI.Response
	err  error
}

// Poll sends one Fetch request per partition leader, long-polling up to the
// session's max wait, and returns what arrived.
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
	pos := make(map[int32]int64, len(f.pos))
	gens := make(map[int32]uint64, len(f.pos))
	for p, o := range f.pos {
		pos[p], gens[p] = o, f.gen[p]
	}
	f.mu.Unlock()

	// Poll ends early on ctx or Close.
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(f.ctx, cancel)()

	reqs, err := f.requests(pctx, pos)
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
	results := f.send(pctx, reqs)

	var (
		batch    transport.Batch
		firstErr error
		reset    []int32
		unknown  error
	)
	f.mu.Lock()
	for _, res := range results {
		if res.err != nil {
			if firstErr == nil && pctx.Err() == nil {
				firstErr = res.err
			}
			continue
		}
		for i := range res.resp.Topics {
			rt := &res.resp.Topics[i]
			if rt.Topic != f.topic {
				continue
			}
			for j := range rt.Partitions {
				rp := &rt.Partitions[j]
				p := rp.Partition
				cur, assigned := f.pos[p]
				if !assigned || f.gen[p] != gens[p] || cur != pos[p] {
					closeRecords(rp.RecordSet.Records)
					continue // fetched for a position Assign replaced
				}
				if rp.ErrorCode != 0 {
					closeRecords(rp.RecordSet.Records)
					kerr := kafka.Error(rp.ErrorCode)
					switch {
					case kerr == kafka.OffsetOutOfRange:
						reset = append(reset, p)
					case kerr == kafka.UnknownTopicOrPartition || kerr == kafka.UnknownTopicID:
						if unknown == nil {
							unknown = kerr
						}
					case firstErr == nil:
						firstErr = kerr
					}
					continue
				}
				next, recs, err := f.walk(p, cur, rp)
				batch.Records = append(batch.Records, recs...)
				if next != cur {
					f.pos[p] = next
					if batch.Next == nil {
						batch.Next = make(map[int32]int64)
					}
					batch.Next[p] = next
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
			}
		}
	}
	f.mu.Unlock()

	if len(reset) > 0 {
		if err := f.resetOutOfRange(pctx, reset, gens, &batch); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil && unknown != nil {
		firstErr = unknown
	}
	if firstErr != nil {
		if _, done := errors.AsType[*transport.Error](firstErr); !done && isUnknownTopic(firstErr) {
			firstErr = f.t.confirmUnknown(pctx, op, f.topic, firstErr)
		} else {
			firstErr = f.t.wrap(pctx, op, f.topic, firstErr)
		}
	}
	delivered := len(batch.Records) > 0 || len(batch.Next) > 0
	if firstErr != nil {
		if cerr := pctx.Err(); cerr != nil && !delivered {
			return transport.Batch{}, f.ctxErr(ctx, cerr)
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
		if err := pctx.Err(); err != nil {
			return transport.Batch{}, f.ctxErr(ctx, err)
		}
	}
	return batch, nil
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

// requests builds one Fetch request per partition leader, from the client's
// metadata cache. Partitions the cache does not know yet (just added) wait
// for its next refresh.
func (f *fetcher) requests(ctx context.Context, pos map[int32]int64) ([]*fetchAPI.Request, error) {
	if len(pos) == 0 {
		return nil, nil
	}
	mt, err := f.t.cachedTopic(ctx, f.topic)
	if err != nil {
		if isUnknownTopic(err) {
			return nil, f.t.confirmUnknown(ctx, "fetch", f.topic, err)
		}
		return nil, f.t.wrap(ctx, "fetch", f.topic, err)
	}
	leaders := make(map[int32]int, len(mt.Partitions))
	for _, p := range mt.Partitions {
		leaders[int32(p.ID)] = p.Leader.ID
	}
	byLeader := make(map[int][]fetchAPI.RequestPartition)
	missing := int32(-1)
	for p, o := range pos {
		leader, ok := leaders[p]
		if !ok {
			missing = max(missing, p)
			continue
		}
		byLeader[leader] = append(byLeader[leader], fetchAPI.RequestPartition{
			Partition:          p,
			CurrentLeaderEpoch: -1,
			FetchOffset:        o,
			LogStartOffset:     -1,
			PartitionMaxBytes:  f.partMax,
		})
	}
	if missing >= 0 {
		// Partitions assigned after they were added: the cache lags.
		// Refresh it; they join the next poll.
		f.t.warm(ctx, f.topic, int(missing)+1)
	}
	reqs := make([]*fetchAPI.Request, 0, len(byLeader))
	for _, parts := range byLeader {
		slices.SortFunc(parts, func(a, b fetchAPI.RequestPartition) int { return int(a.Partition - b.Partition) })
		reqs = append(reqs, &fetchAPI.Request{
			ReplicaID:      -1,
			MaxWaitTime:    int32(f.maxWait / time.Millisecond),
			MinBytes:       1,
			MaxBytes:       f.maxBytes,
			IsolationLevel: f.isolation,
			SessionID:      0, // no fetch session (KIP-227): a full fetch each time
			SessionEpoch:   -1,
			Topics:         []fetchAPI.RequestTopic{{Topic: f.topic, Partitions: parts}},
		})
	}
	return reqs, nil
}

// send runs the requests, concurrently when there are several leaders. As
// soon as one answer carries records, the others are abandoned (their
// connections finish the long poll in the background): a busy partition on
// one broker must not wait for idle ones on others.
func (f *fetcher) send(ctx context.Context, reqs []*fetchAPI.Request) []fetchResult {
	rctx, cancel := f.t.reqCtx(ctx, f.maxWait)
	defer cancel()
	one := func(req *fetchAPI.Request) fetchResult {
		m, err := f.t.rt.RoundTrip(rctx, f.t.cl.Addr, req)
		if err != nil {
			return fetchResult{err: err}
		}
		resp, ok := m.(*fetchAPI.Response)
		if !ok {
			return fetchResult{err: fmt.Errorf("unexpected fetch response %T", m)}
		}
		if resp.ErrorCode != 0 {
			return fetchResult{err: kafka.Error(resp.ErrorCode)}
		}
		return fetchResult{resp: resp}
	}
	if len(reqs) == 1 {
		return []fetchResult{one(reqs[0])}
	}
	ch := make(chan fetchResult, len(reqs))
	for _, req := range reqs {
		go func() { ch <- one(req) }()
	}
	out := make([]fetchResult, 0, len(reqs))
	abandoned := false
	for range reqs {
		r := <-ch
		if abandoned && r.err != nil && rctx.Err() != nil && ctx.Err() == nil {
			continue // cut short by cancel below, not a fault
		}
		out = append(out, r)
		if r.resp != nil && hasRecords(r.resp) && !abandoned {
			abandoned = true
			cancel()
		}
	}
	return out
}

func hasRecords(resp *fetchAPI.Response) bool {
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.RecordSet.Records != nil || p.ErrorCode != 0 {
				return true
			}
		}
	}
	return false
}

// walk turns one partition's record set into records, starting at pos, and
// returns the position to fetch next.
//
// kafka-go's protocol package decodes v2 record batches into
// *protocol.RecordBatch and *protocol.ControlBatch values and keeps a null
// value (nil Bytes) apart from an empty one (Bytes of length 0), which
// kafka.Reader and kafka.Message do not. Positions advance past every
// offset the response proves empty: control records (transaction markers),
// records of aborted transactions, compaction holes, and batches that start
// after pos. kafka-go does not expose a batch's last offset delta, so a hole
// at the very end of a batch (records compacted away) is crossed one offset
// per response: a response whose only batch holds no record at or after
// pos proves pos empty.
func (f *fetcher) walk(p int32, pos int64, rp *fetchAPI.ResponsePartition) (int64, []transport.Record, error) {
	rr := rp.RecordSet.Records
	if rr == nil {
		return pos, nil, nil
	}
	var readers []protocol.RecordReader
	if s, ok := rr.(*protocol.RecordStream); ok {
		readers = s.Records
	} else {
		readers = []protocol.RecordReader{rr}
	}
	if len(readers) == 0 {
		return pos, nil, nil
	}

	// Read committed: the broker lists the aborted transactions overlapping
	// the response; their batches are skipped until the producer's abort
	// marker.
	var abortedAt map[int64][]int64 // producer id -> first offsets
	var abortedNow map[int64]bool
	if f.isolation == 1 && len(rp.AbortedTransactions) > 0 {
		abortedAt = make(map[int64][]int64, len(rp.AbortedTransactions))
		for _, a := range rp.AbortedTransactions {
			abortedAt[a.ProducerID] = append(abortedAt[a.ProducerID], a.FirstOffset)
		}
		for _, offs := range abortedAt {
			slices.Sort(offs)
		}
		abortedNow = make(map[int64]bool)
	}

	start := pos
	var out []transport.Record
	var err error
	for _, r := range readers {
		var (
			base    int64 = -1
			control bool
			skip    bool
		)
		switch b := r.(type) {
		case *protocol.ControlBatch:
			base, control = b.BaseOffset, true
			if abortedNow != nil {
				delete(abortedNow, b.ProducerID) // the transaction's end marker
			}
		case *protocol.RecordBatch:
			base = b.BaseOffset
			if abortedAt != nil && b.Attributes.Transactional() {
				offs := abortedAt[b.ProducerID]
				for len(offs) > 0 && offs[0] <= b.BaseOffset {
					abortedNow[b.ProducerID] = true
					offs = offs[1:]
				}
				abortedAt[b.ProducerID] = offs
				skip = abortedNow[b.ProducerID]
			}
		case *protocol.MessageSet:
			base = b.BaseOffset
		}
		if base > pos {
			pos = base // offsets before a batch's base hold no record
		}
		for {
			rec, rerr := r.ReadRecord()
			if rerr != nil {
				if !errors.Is(rerr, io.EOF) && err == nil {
					err = rerr
				}
				break
			}
			if rec.Offset < pos || control || skip {
				if rec.Offset >= pos {
					pos = rec.Offset + 1
				}
				closeBytes(rec.Key, rec.Value)
				continue
			}
			pos = rec.Offset + 1
			out = append(out, fromKafka(p, rec))
		}
	}
	if pos == start && err == nil {
		pos++ // see above: the batch holding pos has nothing at or after it
	}
	return pos, out, err
}

func fromKafka(p int32, r *protocol.Record) transport.Record {
	rec := transport.Record{
		Key:       readBytes(r.Key),
		Value:     readBytes(r.Value),
		Timestamp: r.Time,
		Partition: p,
		Offset:    r.Offset,
	}
	if len(r.Headers) > 0 {
		rec.Headers = make([]transport.Header, len(r.Headers))
		for i, h := range r.Headers {
			rec.Headers[i] = transport.Header{Key: h.Key, Value: bytes.Clone(h.Value)}
		}
	}
	return rec
}

// readBytes copies b out of kafka-go's pooled buffers: nil for a null
// field, a non-nil (possibly empty) slice otherwise. The copy belongs to the
// caller (transport package doc).
func readBytes(b protocol.Bytes) []byte {
	if b == nil {
		return nil
	}
	out := make([]byte, b.Len())
	_, _ = io.ReadFull(b, out)
	_ = b.Close()
	return out
}

func closeBytes(bs ...protocol.Bytes) {
	for _, b := range bs {
		if b != nil {
			_ = b.Close()
		}
	}
}

// closeRecords releases the buffers of records not read.
func closeRecords(rr protocol.RecordReader) {
	if rr == nil {
		return
	}
	for {
		rec, err := rr.ReadRecord()
		if err != nil {
			return
		}
		closeBytes(rec.Key, rec.Value)
	}
}

// resetOutOfRange moves partitions whose position fell out of the log (below
// the log start after compaction, retention or DeleteRecords; or past the
// end after a truncation) to the log start, as auto.offset.reset=earliest
// does, and reports the new position in batch.Next even when no record
// follows it.
func (f *fetcher) resetOutOfRange(ctx context.Context, parts []int32, gens map[int32]uint64, batch *transport.Batch) error {
	starts, err := f.t.listOffsetsOnce(ctx, f.topic, parts, kafka.FirstOffset, false)
	if err != nil {
		return err
	}
	ends, err := f.t.listOffsetsOnce(ctx, f.topic, parts, kafka.LastOffset, false)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range parts {
		pos, assigned := f.pos[p]
		if !assigned || f.gen[p] != gens[p] {
			continue // Assign moved it meanwhile
		}
		if pos >= starts[p] && pos <= ends[p] {
			continue // in range again (a leader change?): fetch at pos again
		}
		f.pos[p] = starts[p]
		if batch.Next == nil {
			batch.Next = make(map[int32]int64)
		}
		batch.Next[p] = starts[p]
	}
	return nil
}

// Assign starts fetching new partitions, or moves fetched ones, to the given
// positions.
func (f *fetcher) Assign(positions map[int32]int64) error {
	const op = "assign"
	for p, o := range positions {
		if o < 0 {
			return transport.NewError(op, f.topic, transport.ErrInvalidRequest, fmt.Errorf("negative position %d for partition %d", o, p))
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return closedErr(op, f.topic)
	}
	for p, o := range positions {
		f.pos[p] = o
		f.gen[p]++
	}
	return nil
}

// Close ends the session. A Poll in progress returns an error matching
// transport.ErrClosed.
func (f *fetcher) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	f.mu.Unlock()
	f.cancel()
	f.t.mu.Lock()
	delete(f.t.fetchers, f)
	f.t.mu.Unlock()
	return nil
}
