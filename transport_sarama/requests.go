package saramatransport

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/IBM/sarama"

	"github.com/ktables/ktables/transport"
)

// The fetcher's requests in flight: at most one per leader broker, on
// connections of the session's own (fetcher.go holds the session).

// pendingFetch is one fetch request to a leader, and the positions it asks
// for.
type pendingFetch struct {
	id   int32
	conn *sarama.Broker
	req  *sarama.FetchRequest
	sent map[int32]transport.Mark
}

// launch sends a fetch to every leader of an assigned partition that has
// none in flight. It returns how many fetches are in flight and the first
// error looking up a leader. When mayInline is set and the session's one
// fetch is its only connection's, launch returns that fetch for the caller
// to send on its own goroutine (inline), counted in flight but not sent.
func (f *fetcher) launch(mayInline bool) (int, *pendingFetch, error) {
	marks := f.pos.Snapshot()
	parts := slices.Sorted(maps.Keys(marks))

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
		return 0, nil, nil
	}
	mayInline = mayInline && len(leaders) == 1 && !f.anyInFlightLocked()
	var inline *pendingFetch
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
		sent := make(map[int32]transport.Mark, len(l.parts))
		for _, p := range l.parts {
			size := f.fetchSize[p]
			if size <= 0 {
				size = f.cfg.Consumer.Fetch.Default
			}
			req.AddBlock(f.topic, p, marks[p].Offset, size, -1)
			sent[p] = marks[p]
		}
		if len(sent) == 0 {
			continue
		}
		f.inflight[id] = true
		f.wg.Add(1)
		if mayInline && len(f.conns) == 1 {
			inline = &pendingFetch{id: id, conn: conn, req: req, sent: sent}
			continue
		}
		go f.fetch(id, conn, req, sent)
	}
	n := 0
	for _, in := range f.inflight {
		if in {
			n++
		}
	}
	return n, inline, firstErr
}

func (f *fetcher) anyInFlightLocked() bool {
	for _, in := range f.inflight {
		if in {
			return true
		}
	}
	return false
}

// fetchInline sends pf on the calling goroutine. sarama's Fetch takes no
// context: when ctx ends first, the session's socket is closed under the
// request, which ends it at once (the next Poll connects again), and the
// result says so without blaming the broker.
func (f *fetcher) fetchInline(ctx context.Context, pf *pendingFetch) fetchResult {
	defer f.wg.Done()
	stop := context.AfterFunc(ctx, f.dial.drop)
	resp, err := pf.conn.Fetch(pf.req)
	cut := !stop()
	return fetchResult{broker: pf.id, conn: pf.conn, parts: pf.sent, resp: resp, err: err, cut: cut}
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
func (f *fetcher) fetch(id int32, conn *sarama.Broker, req *sarama.FetchRequest, parts map[int32]transport.Mark) {
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
