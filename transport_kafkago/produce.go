package kafkagotransport

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/ktables/ktables/transport"
)

// Produce batching. kafka-go's Client.Produce sends one request per call,
// and its Transport runs one request at a time per connection, dialing more
// when all are busy: 64 concurrent calls cost 64 requests on up to 64
// connections, which a broker (and a 2-core machine) handles barely faster
// than one after another. So the adapter batches per partition with a
// transport.BatchQueue, the way Kafka producers do without a linger: at
// most one produce request in flight per partition; records handed in
// meanwhile go together in the next request, in the order Produce was
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

// newProducer is the transport's queue of pending records, a partition's
// batch sent by sendBatch.
func (t *Transport) newProducer() *transport.BatchQueue[produceKey, *pendingRecord] {
	return &transport.BatchQueue[produceKey, *pendingRecord]{
		MaxItems: maxBatchRecords,
		MaxBytes: maxBatchBytes,
		Size:     func(pr *pendingRecord) int { return pr.size },
		Send:     t.sendBatch,
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
