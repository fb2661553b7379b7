package kafkagotransport

import (
	"maps"

	fetchAPI "github.com/segmentio/kafka-go/protocol/fetch"

	"github.com/ktables/ktables/transport"
)

// A Poll that returned records sends the next Fetch before it returns, so
// the broker prepares the next response while the caller applies this one:
// a catch-up otherwise alternates between a broker that waits for the
// reader and a reader that waits for the broker. The next Poll takes the
// answer if the positions are still the ones it was requested for, and
// otherwise drops it and fetches afresh, so Assign and the Poll contract
// (ADR 7) are as without it. A table at the head, whose polls return
// nothing, sends nothing ahead; nor does a poll that reached the head: its
// next Fetch waits for a record not yet written, so sending it early gains
// nothing, and a Fetch landing on the broker as it answers the producer
// delayed that acknowledgement (issue 17: kafka-go's one-at-a-time
// propagation latency). (Decoding the records in the prefetch too
// was slower on two cores: the broker, the decoding and the caller's apply
// then compete for them.)

// behindHead reports whether a partition of b stopped short of the high
// watermark its fetch answer reported: records wait at the broker.
func behindHead(b *transport.Batch) bool {
	for p, next := range b.Next {
		if hw, ok := b.HighWatermarks[p]; ok && next < hw {
			return true
		}
	}
	return false
}

// prefetch is one Fetch sent ahead of the Poll that will read it.
type prefetch struct {
	marks map[int32]transport.Mark // the positions it was requested for
	done  chan struct{}            // closed once res or err is set
	res   []transport.Result[*fetchAPI.Response]
	err   error // building the requests failed
}

// startPrefetch sends the fetch for the current positions, unless the
// session is closed.
func (f *fetcher) startPrefetch() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	pf := &prefetch{marks: f.pos.Snapshot(), done: make(chan struct{})}
	hw := f.knownHighWatermarks()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer close(pf.done)
		reqs, err := f.requests(f.ctx, pf.marks, hw)
		switch {
		case err != nil:
			pf.err = err
		case len(reqs) > 0:
			pf.res = f.send(f.ctx, reqs)
		}
	}()
	f.pending = pf
}

// takePrefetch returns the pending prefetch if it was requested for marks;
// one for other positions is discarded.
func (f *fetcher) takePrefetch(marks map[int32]transport.Mark) *prefetch {
	pf := f.pending
	f.pending = nil
	if pf == nil {
		return nil
	}
	if !maps.Equal(pf.marks, marks) {
		f.discard(pf)
		return nil
	}
	return pf
}

// discard releases the buffers of a prefetch nobody reads, once it is
// answered.
func (f *fetcher) discard(pf *prefetch) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return // Close waits for the fetch; the buffers go to the collector
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		<-pf.done
		for _, res := range pf.res {
			if res.Err != nil {
				continue
			}
			for i := range res.V.Topics {
				for j := range res.V.Topics[i].Partitions {
					closeRecords(res.V.Topics[i].Partitions[j].RecordSet.Records)
				}
			}
		}
	}()
}
