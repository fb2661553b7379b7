package kafkagotransport

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"

	"github.com/ktables/ktables/transport"
)

// requestGrace is how long a request may outlive its caller's deadline,
// so that an answer arriving just after it still leaves the connection
// usable. kafka-go bounds a request only by the deadline it puts on the
// connection, not by cancellation: a request detached from its caller's
// deadline kept its connection (and the partition's produce queue behind
// it) busy for the full request timeout after the caller gave up (issue 16
// item 9).
const requestGrace = 500 * time.Millisecond

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// requestTimeout is the timeout of a request whose callers' latest
// deadline is last (zero: one has none): the request timeout plus extra,
// or less when every caller gives up before.
func (t *Transport) requestTimeout(extra time.Duration, last time.Time) time.Duration {
	d := t.cfg.reqTimeout + extra
	if !last.IsZero() {
		d = min(d, time.Until(last)+requestGrace+extra)
	}
	return max(d, time.Millisecond)
}

// batchCtx is the context of a produce request for the records of live:
// ended by Close, and bounded by the latest of their callers' deadlines.
func (t *Transport) batchCtx(live []*pendingRecord) (context.Context, context.CancelFunc) {
	var last time.Time
	for _, pr := range live {
		d, ok := pr.ctx.Deadline()
		if !ok {
			last = time.Time{}
			break
		}
		if d.After(last) {
			last = d
		}
	}
	return context.WithTimeoutCause(t.ctx, t.requestTimeout(0, last), errRequestTimeout)
}

// isLeaderMove reports errors after which the partition's leader is
// elsewhere: the broker did nothing, and the cache must be refreshed.
func isLeaderMove(err error) bool {
	return errors.Is(err, kafka.NotLeaderForPartition) || errors.Is(err, kafka.LeaderNotAvailable) ||
		errors.Is(err, kafka.FencedLeaderEpoch) || errors.Is(err, kafka.UnknownLeaderEpoch) ||
		errors.Is(err, protocol.ErrNoLeader)
}

func leaderMoved(resp *kafka.ProduceResponse, err error) bool {
	if err == nil && resp != nil {
		err = resp.Error
	}
	return err != nil && isLeaderMove(err)
}

// The connections of New's kafka.Transport are watched (a caller's
// transport is not changed): transport.ConnWatch closes a broker's silent
// connections together, rejects responses that are not Kafka's before
// kafka-go decodes them (plaintext only, as TLS is layered on top of the
// dialed connection), and keeps the last connection failure, to say why a
// call ran out of time.

// watchDial wraps dial (nil: a plain net.Dialer) with w.
func watchDial(w *transport.ConnWatch, dial func(context.Context, string, string) (net.Conn, error)) func(context.Context, string, string) (net.Conn, error) {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		return w.Dialed(dial(ctx, network, address))
	}
}

// lastConnErr is the last connection failure since the last response (nil
// for NewFromClient, whose connections are the caller's).
func (t *Transport) lastConnErr() error {
	if t.watch == nil {
		return nil
	}
	return t.watch.Last.Err()
}
