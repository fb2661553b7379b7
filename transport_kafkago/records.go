package kafkagotransport

import (
	"bytes"
	"errors"
	"io"

	"github.com/segmentio/kafka-go/protocol"
	fetchAPI "github.com/segmentio/kafka-go/protocol/fetch"

	"github.com/ktables/ktables/transport"
)

// Decoding of one partition's record set into transport records: the
// translation half of the fetcher (fetcher.go holds the session).

// walk appends one partition's record set to out as records, starting at
// pos, and returns the position to fetch next.
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
func (f *fetcher) walk(out *[]transport.Record, p int32, pos int64, rp *fetchAPI.ResponsePartition) (int64, error) {
	rr := rp.RecordSet.Records
	if rr == nil {
		return pos, nil
	}
	var readers []protocol.RecordReader
	if s, ok := rr.(*protocol.RecordStream); ok {
		readers = s.Records
	} else {
		readers = []protocol.RecordReader{rr}
	}
	if len(readers) == 0 {
		return pos, nil
	}

	// Read committed: the broker lists the aborted transactions overlapping
	// the response; transport.AbortedBatches says which batches they cover.
	hs := batchHeaders(readers)
	var aborted []bool
	if f.isolation == 1 && len(rp.AbortedTransactions) > 0 {
		aborted = transport.AbortedBatches(hs, abortedTxns(rp.AbortedTransactions))
	}

	start := pos
	var err error
	for i, r := range readers {
		control, skip := hs[i].Control, aborted != nil && aborted[i]
		if hs[i].BaseOffset > pos {
			pos = hs[i].BaseOffset // offsets before a batch's base hold no record
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
			*out = append(*out, fromKafka(p, rec))
		}
	}
	if pos == start && err == nil {
		pos++ // see above: the batch holding pos has nothing at or after it
	}
	return pos, err
}

func batchHeaders(readers []protocol.RecordReader) []transport.BatchHeader {
	hs := make([]transport.BatchHeader, len(readers))
	for i, r := range readers {
		switch b := r.(type) {
		case *protocol.ControlBatch:
			hs[i] = transport.BatchHeader{BaseOffset: b.BaseOffset, ProducerID: b.ProducerID, Control: true}
		case *protocol.RecordBatch:
			hs[i] = transport.BatchHeader{BaseOffset: b.BaseOffset, ProducerID: b.ProducerID, Transactional: b.Attributes.Transactional()}
		case *protocol.MessageSet:
			hs[i] = transport.BatchHeader{BaseOffset: b.BaseOffset, ProducerID: -1}
		}
	}
	return hs
}

func abortedTxns(in []fetchAPI.ResponseTransaction) []transport.AbortedTxn {
	out := make([]transport.AbortedTxn, len(in))
	for i, a := range in {
		out[i] = transport.AbortedTxn{ProducerID: a.ProducerID, FirstOffset: a.FirstOffset}
	}
	return out
}

func fromKafka(p int32, r *protocol.Record) transport.Record {
	key, value := readKeyValue(r.Key, r.Value)
	rec := transport.Record{
		Key:       key,
		Value:     value,
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

// readKeyValue copies a record's key and value out of kafka-go's pooled
// buffers: nil for a null field, a non-nil (possibly empty) slice
// otherwise. The copies belong to the caller (transport package doc). Both
// share one allocation (one per record, not two: a catch-up reads
// millions), the key first; each slice is capped at its length, so
// appending to one never writes into the other.
func readKeyValue(k, v protocol.Bytes) (key, value []byte) {
	n := 0
	if k != nil {
		n += k.Len()
	}
	if v != nil {
		n += v.Len()
	}
	buf := make([]byte, n)
	if k != nil {
		kn := k.Len()
		key = buf[:kn:kn]
		_, _ = io.ReadFull(k, key)
		_ = k.Close()
		buf = buf[kn:]
	}
	if v != nil {
		value = buf[:len(buf):len(buf)]
		_, _ = io.ReadFull(v, value)
		_ = v.Close()
	}
	return key, value
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

// hasRecords reports whether a response carries records or a partition error.
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
