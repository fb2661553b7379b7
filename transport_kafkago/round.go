package kafkagotransport

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"
	fetchAPI "github.com/segmentio/kafka-go/protocol/fetch"

	"github.com/ktables/ktables/transport"
)

// A round is one set of Fetch requests for the session's positions (one
// per leader, the busy partitions spread over several: split.go). Each
// request's answer is decoded on its own goroutine as soon as it arrives,
// and a Poll hands over the answers decoded so far, so the core applies
// one answer while others are still on the wire or being decoded (issue
// 17: a catch-up that waited for every answer, then decoded them, then
// applied them, ran at about half the speed of a loop doing all three at
// once on goroutines of its own). A round outlives the Poll that started
// it: a Poll interrupted by its context leaves the round running for the
// next, and a Poll that returned records while partitions were behind the
// head starts the next round before it returns, so the broker prepares
// the next answers while the core applies these. A table at the head,
// whose polls return nothing, sends nothing ahead; nor does a poll that
// reached the head: its next Fetch waits for a record not yet written, so
// sending it early gains nothing, and a Fetch landing on the broker as it
// answers the producer delayed that acknowledgement (issue 17: kafka-go's
// one-at-a-time propagation latency).
type round struct {
	marks   map[int32]transport.Mark // the positions the round fetches from
	pending map[int32]bool           // partitions whose answer is not taken yet
	answers chan answer              // one per request
	left    int                      // requests whose answer is not taken
	busy    int                      // busy requests whose answer is not taken
	records bool                     // an answer taken carried records or an error
	cut     bool                     // the idle requests were cut short
	behind  bool                     // an answer taken stopped short of its high watermark
	taken   int                      // records handed over before the last take
	cancel  context.CancelFunc       // ends the round's requests
}

// answer is one request's outcome, decoded.
type answer struct {
	decoded
	asked []int32 // the partitions requested
	busy  bool
}

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

// startRound sends reqs, fetched from marks, unless the session is closed.
func (f *fetcher) startRound(reqs []leaderFetch, marks map[int32]transport.Mark) *round {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	rctx, cancel := f.t.reqCtx(f.ctx, f.maxWait)
	r := &round{
		marks:   marks,
		pending: make(map[int32]bool, len(marks)),
		answers: make(chan answer, len(reqs)),
		left:    len(reqs),
		cancel:  cancel,
	}
	for _, lf := range reqs {
		estimate := f.estimate(lf, len(reqs))
		a := answer{busy: lf.busy}
		for _, rt := range lf.req.Topics {
			for _, rp := range rt.Partitions {
				a.asked = append(a.asked, rp.Partition)
				r.pending[rp.Partition] = true
			}
		}
		if lf.busy {
			r.busy++
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			resp, err := f.roundTrip(rctx, lf.req)
			a.decoded = f.decode(transport.Result[*fetchAPI.Response]{V: resp, Err: err}, marks, estimate)
			r.answers <- a
		}()
	}
	return r
}

// maxPresize caps how many records a new session presizes one answer for
// (about 13 MB of records): a first answer may hold fewer records than
// its partitions' lag, and a later round sizes from the last one.
const maxPresize = 1 << 17

// estimate is how many records lf's answer is presized for: kafka-go does
// not tell how many an answer holds before they are read, and growing the
// slice record by record cost a tenth of a catch-up's time (issue 17). A
// session that has polled shares the last round's count among the
// requests; a new one counts the records its partitions' high watermarks
// say wait, up to maxPresize.
func (f *fetcher) estimate(lf leaderFetch, requests int) int {
	if f.lastRecords > 0 {
		return f.lastRecords / requests
	}
	n := int64(0)
	for _, rt := range lf.req.Topics {
		for _, rp := range rt.Partitions {
			if hw, ok := f.hw[rp.Partition]; ok && hw > rp.FetchOffset {
				n += hw - rp.FetchOffset
			}
		}
	}
	return int(min(n, maxPresize))
}

// inline sends lf on the calling goroutine, bounded by ctx, and returns
// its answer as a round already taken.
func (f *fetcher) inline(ctx context.Context, lf leaderFetch, marks map[int32]transport.Mark) (*round, []answer) {
	rctx, cancel := f.t.reqCtx(ctx, f.maxWait)
	resp, err := f.roundTrip(rctx, lf.req)
	cancel()
	a := answer{decoded: f.decode(transport.Result[*fetchAPI.Response]{V: resp, Err: err}, marks, f.estimate(lf, 1))}
	return &round{cancel: func() {}}, []answer{a}
}

// roundTrip sends one Fetch request.
func (f *fetcher) roundTrip(ctx context.Context, req *fetchAPI.Request) (*fetchAPI.Response, error) {
	m, err := f.t.rt.RoundTrip(ctx, f.t.cl.Addr, req)
	if err != nil {
		return nil, err
	}
	resp, ok := m.(*fetchAPI.Response)
	switch {
	case !ok:
		return nil, fmt.Errorf("unexpected fetch response %T", m)
	case resp.ErrorCode != 0:
		return nil, kafka.Error(resp.ErrorCode)
	}
	return resp, nil
}

// serves reports whether the round fetches for marks: every partition
// whose answer is still to come is at the position it was requested
// from, and no partition is new to it (Assign added or moved none).
func (r *round) serves(marks map[int32]transport.Mark) bool {
	for p, m := range marks {
		was, ok := r.marks[p]
		if !ok || r.pending[p] && was != m {
			return false
		}
	}
	return true
}

// take waits until an answer carries records or an error, or every answer
// is in, and returns the answers in so far. Once every busy answer is
// taken and one carried records, the idle requests' long polls are cut
// short: the errors they then end with are dropped. It returns ctx's
// error, the round kept for the next Poll, when ctx ends before any
// answer.
func (r *round) take(ctx context.Context) ([]answer, error) {
	var out []answer
	ready := false // out holds records or an error: hand over what is in
	for r.left > 0 {
		var a answer
		if ready {
			select {
			case a = <-r.answers:
			default:
				return out, nil // the rest follows in the next Polls
			}
		} else {
			select {
			case a = <-r.answers:
			case <-ctx.Done():
				if len(out) > 0 {
					return out, nil
				}
				return nil, ctx.Err()
			}
		}
		r.left--
		for _, p := range a.asked {
			delete(r.pending, p)
		}
		if a.busy {
			r.busy--
		}
		if a.err != nil && r.cut {
			continue // cut short by the round, not a fault
		}
		out = append(out, a)
		if a.err != nil || len(a.records) > 0 {
			ready, r.records = true, true
		}
		if r.records && r.busy == 0 && !r.cut {
			r.cut = true
			r.cancel()
		}
	}
	return out, nil
}

// done reports whether every answer was taken; the round's context is
// then released.
func (r *round) done() bool {
	if r.left == 0 {
		r.cancel()
		return true
	}
	return false
}

// abandon ends a round nobody will take from; its answers go to the
// collector (decoding copied their records out of kafka-go's buffers).
func (r *round) abandon() { r.cancel() }
