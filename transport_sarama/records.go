package saramatransport

import (
	"reflect"
	"time"

	"github.com/IBM/sarama"

	"github.com/ktables/ktables/transport"
)

// Decoding of one partition's fetch block into transport records: the
// translation half of the fetcher (fetcher.go holds the session).

// appendBlock appends the records of one partition's fetch block at or
// after pos to batch and returns the next position: past every whole batch
// in the block, records or not (control batches, aborted transactions,
// batches emptied by compaction). partial reports a batch cut off by the
// fetch size.
//
// Under read committed, the batches of aborted transactions listed in the
// response are dropped, as transport.AbortedBatches decides.
func appendBlock(batch *transport.Batch, p int32, pos int64, blk *sarama.FetchResponseBlock, readCommitted bool) (next int64, partial bool) {
	next = pos
	var aborted []bool
	if readCommitted && len(blk.AbortedTransactions) > 0 {
		aborted = transport.AbortedBatches(batchHeaders(blk), abortedTxns(blk))
	}
	for i, rs := range blk.RecordsSet {
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
			switch {
			case rb.Control:
				// A transaction marker: advances, is not a record.
			case aborted != nil && aborted[i]:
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
// batchHeaders and abortedTxns give transport.AbortedBatches its input.
func batchHeaders(blk *sarama.FetchResponseBlock) []transport.BatchHeader {
	hs := make([]transport.BatchHeader, len(blk.RecordsSet))
	for i, rs := range blk.RecordsSet {
		if rb := rs.RecordBatch; rb != nil {
			hs[i] = transport.BatchHeader{BaseOffset: rb.FirstOffset, ProducerID: rb.ProducerID, Transactional: rb.IsTransactional, Control: rb.Control}
		} else {
			hs[i] = transport.BatchHeader{BaseOffset: -1, ProducerID: -1}
		}
	}
	return hs
}

func abortedTxns(blk *sarama.FetchResponseBlock) []transport.AbortedTxn {
	out := make([]transport.AbortedTxn, len(blk.AbortedTransactions))
	for i, a := range blk.AbortedTransactions {
		out[i] = transport.AbortedTxn{ProducerID: a.ProducerID, FirstOffset: a.FirstOffset}
	}
	return out
}

func recordsNextOffset(blk *sarama.FetchResponseBlock) (int64, bool) {
	v := reflect.ValueOf(blk).Elem().FieldByName("recordsNextOffset")
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Int64 {
		return 0, false
	}
	return v.Elem().Int(), true
}

// countRecords bounds how many records appendBlock can take from the
// responses of rs: every decoded record of the topic's blocks.
func countRecords(topic string, rs []fetchResult) int {
	n := 0
	for _, r := range rs {
		if r.err != nil || r.resp == nil {
			continue
		}
		for _, blk := range r.resp.Blocks[topic] {
			for _, set := range blk.RecordsSet {
				switch {
				case set.RecordBatch != nil:
					n += len(set.RecordBatch.Records)
				case set.MsgSet != nil:
					for _, mb := range set.MsgSet.Messages {
						n += len(mb.Messages())
					}
				}
			}
		}
	}
	return n
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
