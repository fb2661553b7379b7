package franztransport

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables/transport"
)

// Timeouts New sets unless the caller's options set them (issue 16 item 9).
// A request on a connection that went silent (a network partition, a
// middlebox that lost the connection) is noticed only by its read
// deadline; kgo's defaults (10 s overhead on top of a 10 s produce timeout)
// kept writes and barriers stuck for 20-40 s after the network healed.
// With these, a silent connection is given up within about 4 s and the
// request retried on a new one.
const (
	// DefaultRequestTimeoutOverhead is kgo.RequestTimeoutOverhead: the
	// deadline of requests without a timeout of their own (metadata, list
	// offsets, admin requests), and what is added to those with one.
	DefaultRequestTimeoutOverhead = 2 * time.Second
	// DefaultProduceRequestTimeout is kgo.ProduceRequestTimeout: how long
	// the broker may wait for replicas (acks=all) before it answers
	// REQUEST_TIMED_OUT, which kgo retries.
	DefaultProduceRequestTimeout = 2 * time.Second
)

// listOffsetsTimeout is the TimeoutMillis of ListOffsets requests: how long
// the broker may take (it matters only for tiered storage lookups).
const listOffsetsTimeout = 2 * time.Second

// recoveryDefaults go before the caller's options, so that theirs win.
func recoveryDefaults() []kgo.Opt {
	return []kgo.Opt{
		kgo.RequestTimeoutOverhead(DefaultRequestTimeoutOverhead),
		kgo.ProduceRequestTimeout(DefaultProduceRequestTimeout),
	}
}

// purger drops a producer's state of a topic that was deleted and
// re-created (issue 16 item 5). kgo keeps the topic ID it first saw and
// fails every record of the topic with UNKNOWN_TOPIC_ID until the topic is
// purged and produced to again, which then loads the new ID.
//
// Purging also fails records of the topic buffered at that moment, so it
// runs once per re-creation: a record that failed after a purge that
// began after the record was produced is already retried on fresh state.
// Records failed by the purge itself (kgo's "topic purged while buffered")
// are unclassified errors, hence retriable.
type purger struct {
	mu  sync.Mutex
	gen map[string]uint64 // purges so far, per topic
}

// generation returns the purge count of topic, taken before producing.
func (p *purger) generation(topic string) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gen[topic]
}

// purge purges topic from cl unless that happened since generation seen.
func (p *purger) purge(cl *kgo.Client, topic string, seen uint64) {
	p.mu.Lock()
	if p.gen[topic] != seen {
		p.mu.Unlock()
		return
	}
	if p.gen == nil {
		p.gen = make(map[string]uint64)
	}
	p.gen[topic]++
	p.mu.Unlock()
	cl.PurgeTopicsFromProducing(topic)
}

// isRecreated reports kgo's error for a topic whose ID changed under it.
func isRecreated(err error) bool { return errors.Is(err, kerr.UnknownTopicID) }

// recreatedErr is what Produce returns after purging: retriable, since the
// next attempt loads the re-created topic's metadata; still matching
// ErrUnknownTopic and carrying kgo's error.
func recreatedErr(op, topic string, err error) error {
	e := transport.NewError(op, topic, transport.ErrUnknownTopic, err)
	e.Retriable = true
	return e
}

// connErrs is a kgo hook on the clients the transport builds for
// producing: it keeps the last connection failure, so that a Produce whose
// context ends while kgo keeps dialing says why ("context deadline
// exceeded (last error: dial tcp ...: connection refused)") rather than
// only that time ran out (issue 16 item 11). kgo retries dials and buffers
// the record meanwhile, so the caller sees no error of its own.
type connErrs struct{ last transport.LastError }

var (
	_ kgo.HookBrokerConnect = (*connErrs)(nil)
	_ kgo.HookBrokerRead    = (*connErrs)(nil)
)

func (h *connErrs) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil {
		h.last.Note(err)
	}
}

func (h *connErrs) OnBrokerRead(_ kgo.BrokerMetadata, _ int16, _ int, _, _ time.Duration, err error) {
	if err != nil {
		h.last.Note(err)
	} else {
		h.last.Clear()
	}
}

func (h *connErrs) lastErr() error { return h.last.Err() }

// finishProduce is finish, with a context error annotated by the last
// connection failure.
func (t *Transport) finishProduce(ctx, wctx context.Context, op, topic string, err error) error {
	return finishWith(ctx, wctx, op, topic, err, t.conns.lastErr())
}
