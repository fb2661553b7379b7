package kafkagotransport

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/segmentio/kafka-go"
)

// Produce batching. kafka-go's Client.Produce sends one request per call,
// and its Transport runs one request at a time per connection, dialing more
// when all are busy: 64 concurrent calls cost 64 requests on up to 64
// connections, which a broker (and a 2-core machine) handles barely faster
// than one after another. So the adapter batches the way Kafka producers
// do, without a linger: a partition has at most one produce request in
// flight; records handed in meanwhile wait and go together in the next
// request. A lone record is sent at once, so an idle writer pays one round
// trip; under concurrency the number of requests drops to about one per
// round trip. Records of one partition are sent in the order Produce was
// called.

// Bounds of one produce request, below Kafka's default message.max.bytes
// (1 MiB), whatever the compression.
const (
	maxBatchBytes   = 512 << 10
	maxBatchRecords = 4096
)

type produceKey struct {
	topic     string
	partition int32
}

// produceQueue is the pending records of one partition.
type produceQueue struct {
	pending  []*pendingRecord
	inFlight bool
}

type pendingRecord struct {
	ctx  context.Context
	rec  kafka.Record
	size int
	done chan produceResult // buffered: the sender never blocks
}

type produceResult struct {
	offset int64
	err    error
}

type producer struct {
	mu     sync.Mutex
	queues map[produceKey]*produceQueue
	wg     sync.WaitGroup
}

// enqueue adds pr to its partition's queue and starts a sender if none
// runs.
func (t *Transport) enqueue(key produceKey, pr *pendingRecord) {
	p := &t.prod
	p.mu.Lock()
	if p.queues == nil {
		p.queues = make(map[produceKey]*produceQueue)
	}
	q := p.queues[key]
	if q == nil {
		q = &produceQueue{}
		p.queues[key] = q
	}
	q.pending = append(q.pending, pr)
	start := !q.inFlight
	q.inFlight = true
	p.mu.Unlock()
	if start {
		p.wg.Add(1)
		go t.sendLoop(key, q)
	}
}

// sendLoop sends the queue's records in batches until it is empty.
func (t *Transport) sendLoop(key produceKey, q *produceQueue) {
	p := &t.prod
	defer p.wg.Done()
	for {
		p.mu.Lock()
		var batch []*pendingRecord
		n, size := 0, 0
		for n < len(q.pending) && n < maxBatchRecords && (n == 0 || size+q.pending[n].size <= maxBatchBytes) {
			size += q.pending[n].size
			n++
		}
		batch = append(batch, q.pending[:n]...)
		q.pending = q.pending[n:]
		if len(q.pending) == 0 {
			q.pending = nil
		}
		if len(batch) == 0 {
			q.inFlight = false
			if len(q.pending) == 0 {
				delete(p.queues, key)
			}
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		t.sendBatch(key, batch)
	}
}

// sendBatch produces the live records of batch in one request and reports
// each record's offset or the error.
func (t *Transport) sendBatch(key produceKey, batch []*pendingRecord) {
	live := batch[:0:0]
	recs := make([]kafka.Record, 0, len(batch))
	for _, pr := range batch {
		if err := pr.ctx.Err(); err != nil {
			pr.done <- produceResult{err: err} // its caller gave up: not sent
			continue
		}
		live = append(live, pr)
		recs = append(recs, pr.rec)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := t.batchCtx(live)
	defer cancel()
	req := &kafka.ProduceRequest{
		Topic:        key.topic,
		Partition:    int(key.partition),
		RequiredAcks: t.cfg.acks,
		Compression:  t.cfg.compression,
	}
	send := func() (*kafka.ProduceResponse, error) {
		req.Records = kafka.NewRecordReader(recs...) // a reader is consumed by a send
		return t.cl.Produce(ctx, req)
	}
	resp, err := send()
	if errors.Is(err, errNoPartition) || errors.Is(err, errNoTopic) {
		// kafka-go's metadata cache lags behind partitions just added
		// (or a topic another process created): the request was not
		// sent. Refresh the cache and send it once more.
		t.warm(ctx, key.topic, int(key.partition)+1)
		resp, err = send()
	}
	if leaderMoved(resp, err) && ctx.Err() == nil {
		// The leader moved: the broker appended nothing. kafka-go routes
		// by a cache it refreshes every MetadataTTL, so without a refresh
		// every retry goes to the old leader (issue 16 item 8).
		t.refreshCache(ctx, key.topic)
		resp, err = send()
	}
	if err == nil && resp == nil { // acks=none: no answer, no offset
		for _, pr := range live {
			pr.done <- produceResult{offset: -1}
		}
		return
	}
	if err == nil {
		err = resp.Error
	}
	for i, pr := range live {
		switch {
		case err != nil:
			pr.done <- produceResult{err: err}
		case resp.RecordErrors[i] != nil:
			pr.done <- produceResult{err: fmt.Errorf("%w: %w", kafka.InvalidRecord, resp.RecordErrors[i])}
		case len(resp.RecordErrors) > 0:
			// Kafka rejects the whole batch when one record is invalid.
			pr.done <- produceResult{err: fmt.Errorf("%w: batch rejected for another record", kafka.InvalidRecord)}
		default:
			pr.done <- produceResult{offset: resp.BaseOffset + int64(i)}
		}
	}
}

func recordSize(r *kafka.Record) int {
	n := 64
	if r.Key != nil {
		n += r.Key.Len()
	}
	if r.Value != nil {
		n += r.Value.Len()
	}
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}
