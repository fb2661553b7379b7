package saramatransport

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/ktables/ktables/transport"
)

// defaultFetchMaxBytes caps one fetch response when neither
// FetchOptions.MaxBytes nor Consumer.Fetch.Max says: Kafka's
// fetch.max.bytes default.
const defaultFetchMaxBytes = 50 << 20

// fetchGrace is how long past its max wait a Poll waits for an in-flight
// fetch before returning empty (the fetch stays in flight for the next
// Poll).
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
// consumer can stall. (X3)
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
	pos := make(map[int32]int64, len(from))
	for p, o := range from {
		if o < 0 {
			return nil, transport.NewError(op, topic, transport.ErrInvalidRequest, fmt.Errorf("negative position %d for partition %d", o, p))
		}
		pos[p] = o
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
		gen:       make(map[int32]uint64, len(from)),
		fetchSize: make(map[int32]int32),
		conns:     make(map[int32]*sarama.Broker),
		inflight:  make(map[int32]bool),
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		d.Close()
		return nil, closedErr(op, topic)
	}
	t.fetchers[f] = struct{}{}
	t.mu.Unlock()
	return f, nil
}

// fetcher is one fetch session. Fetch requests run in goroutines, at most
// one per leader broker, and stay in flight between polls: a Poll that ends
// early (its context) leaves them running, and the next Poll takes their
// results. Results are checked against the positions they were requested
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

	mu        sync.Mutex
	closed    bool
	pos       map[int32]int64  // next offset to deliver, per assigned partition
	gen       map[int32]uint64 // bumped by Assign: results from before are stale
	fetchSize map[int32]int32  // per-partition bytes, grown past oversized batches
	pending   error            // an error held back while records were delivered
	conns     map[int32]*sarama.Broker
	inflight  map[int32]bool // by broker id

	closeOnce sync.Once
}

type reqPart struct {
	pos int64
	gen uint64
}

type fetchResult struct {
	broker int32
	conn   *sarama.Broker
	parts  map[int32]reqPart
	resp   *sarama.FetchResponse
	err    error
}

// Poll starts fetches for partitions whose leader has none in flight, waits
// for the first result (up to the long poll), and returns every result
// that has arrived.
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
	f.mu.Unlock()

	inflight, leaderErr := f.launch()
	if leaderErr != nil && inflight == 0 {
		return transport.Batch{}, f.leaderError(ctx, leaderErr)
	}
	var rs []fetchResult
	if inflight > 0 {
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

	batch, reset, firstErr := f.process(rs)
	if len(reset) > 0 {
		if err := f.resetOutOfRange(ctx, reset, &batch); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil && leaderErr != nil {
		firstErr = f.leaderError(ctx, leaderErr)
	}
	if firstErr != nil {
		firstErr = f.classify(ctx, firstErr)
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

// launch sends a fetch to every leader of an assigned partition that has
// none in flight. It returns how many fetches are in flight and the first
// error looking up a leader.
func (f *fetcher) launch() (int, error) {
	f.mu.Lock()
	parts := slices.Sorted(maps.Keys(f.pos))
	f.mu.Unlock()

	type leader struct {
		addr  string
		parts []int32
	}
	leaders := make(map[int32]*leader)
	var firstErr error
	for _, p := range parts {
		b, err := f.client.Leader(f.topic, p)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		l := leaders[b.ID()]
		if l == nil {
			l = &leader{addr: b.Addr()}
			leaders[b.ID()] = l
		}
		l.parts = append(l.parts, p)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, nil
	}
	for id, l := range leaders {
		if f.inflight[id] {
			continue
		}
		conn := f.conns[id]
		if conn != nil && conn.Addr() != l.addr {
			f.dropConnLocked(id, conn)
			conn = nil
		}
		if conn == nil {
			conn = sarama.NewBroker(l.addr)
			_ = conn.Open(f.cfg) // connects asynchronously; errors come with the fetch
			f.conns[id] = conn
		}
		req := f.newRequest()
		sent := make(map[int32]reqPart, len(l.parts))
		for _, p := range l.parts {
			pos, ok := f.pos[p]
			if !ok {
				continue
			}
			size := f.fetchSize[p]
			if size <= 0 {
				size = f.cfg.Consumer.Fetch.Default
			}
			req.AddBlock(f.topic, p, pos, size, -1)
			sent[p] = reqPart{pos: pos, gen: f.gen[p]}
		}
		if len(sent) == 0 {
			continue
		}
		f.inflight[id] = true
		f.wg.Add(1)
		go f.fetch(id, conn, req, sent)
	}
	n := 0
	for _, in := range f.inflight {
		if in {
			n++
		}
	}
	return n, firstErr
}

func (f *fetcher) newRequest() *sarama.FetchRequest {
	req := &sarama.FetchRequest{
		Version:      10,
		MaxWaitTime:  int32(f.maxWait / time.Millisecond),
		MinBytes:     max(f.cfg.Consumer.Fetch.Min, 1),
		MaxBytes:     f.maxBytes,
		Isolation:    f.cfg.Consumer.IsolationLevel,
		SessionID:    0,
		SessionEpoch: -1, // no fetch session: every request is a full fetch
	}
	if f.cfg.Version.IsAtLeast(sarama.V2_3_0_0) {
		req.Version = 11
		req.RackID = f.cfg.RackID
	}
	if req.MaxWaitTime <= 0 {
		req.MaxWaitTime = 1
	}
	return req
}

// fetch runs one fetch request and hands its result to Poll.
func (f *fetcher) fetch(id int32, conn *sarama.Broker, req *sarama.FetchRequest, parts map[int32]reqPart) {
	defer f.wg.Done()
	resp, err := conn.Fetch(req)
	select {
	case f.results <- fetchResult{broker: id, conn: conn, parts: parts, resp: resp, err: err}:
	case <-f.done:
	}
}

// dropConnLocked forgets a broker connection and closes it. The caller
// holds f.mu and no request is in flight on conn.
func (f *fetcher) dropConnLocked(id int32, conn *sarama.Broker) {
	if f.conns[id] == conn {
		delete(f.conns, id)
	}
	_ = conn.Close()
}

// refresh refreshes the main client's metadata of the topic in the
// background, once at a time: leaders moved or a broker went away.
func (f *fetcher) refresh() {
	if !f.refreshing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer f.refreshing.Store(false)
		_ = f.client.RefreshMetadata(f.topic)
	}()
}

// process turns fetch results into a batch. It returns the partitions
// whose position is out of range, and the first error.
func (f *fetcher) process(rs []fetchResult) (transport.Batch, []int32, error) {
	var (
		batch    transport.Batch
		reset    []int32
		firstErr error
	)
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
			rp := r.parts[p]
			blk := r.resp.GetBlock(f.topic, p)
			if blk == nil {
				continue
			}
			pos, assigned := f.pos[p]
			if !assigned || pos != rp.pos || f.gen[p] != rp.gen {
				continue // fetched for a position that has moved since
			}
			switch {
			case blk.Err == sarama.ErrNoError:
			case blk.Err == sarama.ErrOffsetOutOfRange:
				reset = append(reset, p)
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
			next, partial := appendBlock(&batch, p, pos, blk, f.cfg.Consumer.IsolationLevel == sarama.ReadCommitted)
			if partial && next == pos {
				// The next batch is bigger than the partition's fetch
				// size: ask for more next time (as sarama's consumer
				// does).
				size := f.fetchSize[p]
				if size <= 0 {
					size = f.cfg.Consumer.Fetch.Default
				}
				f.fetchSize[p] = min(size*2, 1<<30)
			}
			if next != pos {
				f.pos[p] = next
				if batch.Next == nil {
					batch.Next = make(map[int32]int64)
				}
				batch.Next[p] = next
			}
		}
	}
	return batch, reset, firstErr
}

// appendBlock appends the records of one partition's fetch block at or
// after pos to batch and returns the next position: past every whole batch
// in the block, records or not (control batches, aborted transactions,
// batches emptied by compaction). partial reports a batch cut off by the
// fetch size.
//
// Under read committed, records of aborted transactions are dropped the
// way the Java consumer does it: an aborted transaction listed in the
// response (producer id, first offset) marks its producer's transactional
// batches as aborted from that offset on, until the producer's next control
// batch (its abort marker).
func appendBlock(batch *transport.Batch, p int32, pos int64, blk *sarama.FetchResponseBlock, readCommitted bool) (next int64, partial bool) {
	next = pos
	var aborted []*sarama.AbortedTransaction
	var abortedPIDs map[int64]bool
	if readCommitted && len(blk.AbortedTransactions) > 0 {
		aborted = slices.Clone(blk.AbortedTransactions)
		slices.SortFunc(aborted, func(a, b *sarama.AbortedTransaction) int {
			return int(min(max(a.FirstOffset-b.FirstOffset, -1), 1))
		})
		abortedPIDs = make(map[int64]bool)
	}
	for _, rs := range blk.RecordsSet {
		switch {
		case rs.RecordBatch != nil:
			rb := rs.RecordBatch
			if rb.PartialTrailingRecord {
				return next, true
			}
			last := rb.FirstOffset + int64(rb.LastOffsetDelta)
			if last < next {
				continue
			}
			for len(aborted) > 0 && aborted[0].FirstOffset <= last {
				abortedPIDs[aborted[0].ProducerID] = true
				aborted = aborted[1:]
			}
			switch {
			case rb.Control:
				// A transaction marker: advances, is not a record,
				// and ends its producer's transaction.
				delete(abortedPIDs, rb.ProducerID)
			case rb.IsTransactional && abortedPIDs[rb.ProducerID]:
				// Data of an aborted transaction.
			default:
				for _, r := range rb.Records {
					off := rb.FirstOffset + r.OffsetDelta
					if off < next {
						continue
					}
					ts := rb.FirstTimestamp.Add(r.TimestampDelta)
					if rb.LogAppendTime {
						ts = rb.MaxTimestamp
					}
					batch.Records = append(batch.Records, fromRecord(p, off, ts, r))
				}
			}
			next = last + 1
		case rs.MsgSet != nil:
			// Legacy message sets (magic 0 and 1), from topics written
			// before Kafka 0.11's format.
			if rs.MsgSet.PartialTrailingMessage && len(rs.MsgSet.Messages) == 0 {
				return next, true
			}
			for _, mb := range rs.MsgSet.Messages {
				inner := mb.Messages()
				for _, m := range inner {
					off, ts := m.Offset, m.Msg.Timestamp
					if m.Msg.Version >= 1 {
						off += mb.Offset - inner[len(inner)-1].Offset
						if m.Msg.LogAppendTime {
							ts = mb.Msg.Timestamp
						}
					}
					if off < next {
						continue
					}
					batch.Records = append(batch.Records, transport.Record{
						Key: m.Msg.Key, Value: m.Msg.Value, Timestamp: ts, Partition: p, Offset: off,
					})
					next = off + 1
				}
			}
			if rs.MsgSet.PartialTrailingMessage {
				return next, true
			}
		}
	}
	if len(blk.RecordsSet) == 0 && !blk.Partial {
		// sarama leaves batches without records (emptied by compaction
		// but kept for producer state) out of RecordsSet; the position
		// must still move past them, as sarama's consumer does.
		if n, ok := recordsNextOffset(blk); ok && n > next && n <= blk.HighWaterMarkOffset {
			next = n
		}
	}
	return next, blk.Partial && next == pos
}

// recordsNextOffset reads sarama's unexported
// FetchResponseBlock.recordsNextOffset: the offset after the last batch
// decoded, including batches without records, which sarama does not expose
// otherwise. sarama's own consumer uses it to move past such batches.
// Reading an unexported field through reflection is allowed (only setting
// it is not); the test of empty batches pins its meaning for the sarama
// version in go.mod.
func recordsNextOffset(blk *sarama.FetchResponseBlock) (int64, bool) {
	v := reflect.ValueOf(blk).Elem().FieldByName("recordsNextOffset")
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Int64 {
		return 0, false
	}
	return v.Elem().Int(), true
}

func fromRecord(p int32, off int64, ts time.Time, r *sarama.Record) transport.Record {
	rec := transport.Record{
		Key:       r.Key,
		Value:     r.Value,
		Timestamp: ts,
		Partition: p,
		Offset:    off,
	}
	if len(r.Headers) > 0 {
		rec.Headers = make([]transport.Header, len(r.Headers))
		for i, h := range r.Headers {
			rec.Headers[i] = transport.Header{Key: string(h.Key), Value: h.Value}
		}
	}
	return rec
}

// classify turns a fetch error into a transport error. An unknown topic
// is confirmed first: real Kafka answers UNKNOWN_TOPIC_OR_PARTITION for a
// short while after a topic is created, until every broker has the new
// metadata, so the error is fatal only when metadata confirms the topic is
// gone; otherwise it is retriable.
func (f *fetcher) classify(ctx context.Context, err error) error {
	const op = "fetch"
	if _, ok := errors.AsType[*transport.Error](err); ok {
		return err
	}
	if errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		_, perr := f.t.Partitions(ctx, f.topic)
		switch {
		case perr == nil:
			e := transport.NewError(op, f.topic, transport.ErrUnknownTopic, err)
			e.Retriable = true // known to the cluster: propagation lag, or a new partition
			return e
		case errors.Is(perr, transport.ErrUnknownTopic):
			return f.t.finish(ctx, op, f.topic, err)
		default:
			return perr // could not tell: that error's class
		}
	}
	return f.t.finish(ctx, op, f.topic, err)
}

// leaderError classifies an error looking up partition leaders.
func (f *fetcher) leaderError(ctx context.Context, err error) error {
	if ctx.Err() == nil && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		f.refresh()
	}
	return f.classify(ctx, err)
}

// resetOutOfRange moves partitions whose position fell out of the log (below
// the log start after compaction, retention or DeleteRecords; or past the
// end after a truncation) to the log start, as auto.offset.reset=earliest
// does, and reports the new position in batch.Next even when no record
// follows it.
func (f *fetcher) resetOutOfRange(ctx context.Context, parts []int32, batch *transport.Batch) error {
	starts, err := f.t.StartOffsets(ctx, f.topic, parts)
	if err != nil {
		return err
	}
	ends, err := f.t.listOffsets(ctx, "fetch", f.topic, parts, sarama.OffsetNewest, false)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range parts {
		pos, assigned := f.pos[p]
		if !assigned || (pos >= starts[p] && pos <= ends[p]) {
			continue // moved by Assign, or in range again (a leader change?)
		}
		f.pos[p] = starts[p]
		f.gen[p]++
		if batch.Next == nil {
			batch.Next = make(map[int32]int64)
		}
		batch.Next[p] = starts[p]
	}
	return nil
}

// Assign starts fetching new partitions, or moves fetched ones, to the given
// positions. It does no network I/O: the next Poll fetches from there.
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
		f.t.mu.Lock()
		delete(f.t.fetchers, f)
		f.t.mu.Unlock()
	})
	return nil
}
