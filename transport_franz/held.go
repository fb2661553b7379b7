package franztransport

import (
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables/transport"
)

// heldPart is the part of one partition's fetched records a Poll took from
// kgo and has not handed over yet.
type heldPart struct {
	p    int32
	m    transport.Mark // the session's position of the partition when the rest is handed over
	hw   int64          // the high watermark (or last stable offset) the fetch reported
	recs []*kgo.Record
}

// handOver moves up to maxPollRecords held records into b, in offset order
// per partition, and advances their positions. A partition that Assign
// moved since its records were fetched (marks holds the session's current
// positions) drops them: kgo fetches it afresh from the new position.
func (f *fetcher) handOver(b *transport.Batch, marks map[int32]transport.Mark) {
	n := 0
	for _, h := range f.held {
		n += len(h.recs)
	}
	if n == 0 {
		f.held = nil
		return
	}
	budget := min(n, maxPollRecords)
	b.Records = make([]transport.Record, 0, budget) // one allocation, no regrowth
	for len(f.held) > 0 && budget > 0 {
		h := &f.held[0]
		if m, ok := marks[h.p]; !ok || m != h.m {
			f.dropHeld()
			continue
		}
		next := h.m.Offset
		i := 0
		for ; i < len(h.recs) && budget > 0; i++ {
			r := h.recs[i]
			if r.Offset < next {
				continue
			}
			next = r.Offset + 1
			if !r.Attrs.IsControl() { // a transaction marker advances, is not a record
				b.Records = append(b.Records, fromKgo(r))
				budget--
			}
		}
		h.recs = h.recs[i:]
		b.SetHighWatermark(h.p, h.hw)
		if f.pos.Advance(b, h.p, h.m, next) {
			h.m = transport.Mark{Offset: next, Gen: h.m.Gen}
		}
		if len(h.recs) == 0 {
			f.dropHeld()
		}
	}
}

// dropHeld forgets the first held partition.
func (f *fetcher) dropHeld() {
	f.held[0] = heldPart{} // the records go to the collector
	f.held = f.held[1:]
	if len(f.held) == 0 {
		f.held = nil
	}
}
