package kafkagotransport

import (
	"github.com/segmentio/kafka-go"
	fetchAPI "github.com/segmentio/kafka-go/protocol/fetch"

	"github.com/ktables/ktables/transport"
)

// Decoding of a fetch answer, on the goroutine of the request that got it
// (round.go); Poll merges the decoded answers in order, on its own
// goroutine, where the positions advance.

// decoded is one fetch answer, decoded.
type decoded struct {
	err     error // the request failed
	records []transport.Record
	parts   []decodedPart
}

// decodedPart is the outcome of one partition of an answer.
type decodedPart struct {
	p    int32
	m    transport.Mark // the position it was fetched from
	hw   int64          // its high watermark (or last stable offset)
	code kafka.Error    // the partition's error code; 0 for none
	next int64          // the position to fetch next
	err  error          // decoding failed after next
}

// decode reads one answer's records.
func (f *fetcher) decode(res transport.Result[*fetchAPI.Response], marks map[int32]transport.Mark, estimate int) decoded {
	if res.Err != nil {
		return decoded{err: res.Err}
	}
	var d decoded
	if estimate > 0 && hasRecords(res.V) {
		d.records = make([]transport.Record, 0, estimate)
	}
	for i := range res.V.Topics {
		rt := &res.V.Topics[i]
		for j := range rt.Partitions {
			rp := &rt.Partitions[j]
			p := rp.Partition
			m, asked := marks[p]
			if rt.Topic != f.topic || !asked || !f.pos.Current(p, m) {
				closeRecords(rp.RecordSet.Records)
				continue // fetched for a position Assign replaced
			}
			dp := decodedPart{p: p, m: m, hw: rp.HighWatermark, code: kafka.Error(rp.ErrorCode)}
			if f.isolation == 1 {
				dp.hw = rp.LastStableOffset
			}
			if dp.code != 0 {
				closeRecords(rp.RecordSet.Records)
			} else {
				dp.next, dp.err = f.walk(&d.records, p, m.Offset, rp)
			}
			d.parts = append(d.parts, dp)
		}
	}
	return d
}

// countRecords is how many records as hold, and how many answers hold some.
func countRecords(as []answer) (n, withRecords int) {
	for _, a := range as {
		if len(a.records) > 0 {
			n += len(a.records)
			withRecords++
		}
	}
	return n, withRecords
}
