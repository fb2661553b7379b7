package kafkagotransport

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
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

// connWatch is on every connection the adapter's kafka.Transport dials
// (New only: a caller's transport is not changed). It closes a broker's
// silent connections together (transport.SilenceWatch), rejects responses
// that are not Kafka's before kafka-go decodes them (transport.FrameCheck;
// plaintext only, as TLS is layered on top of the dialed connection), and
// keeps the last connection failure, to say why a call ran out of time.
type connWatch struct {
	silence transport.SilenceWatch
	frames  bool
	last    atomic.Pointer[error]
}

func (w *connWatch) note(err error) { w.last.Store(&err) }

// lastErr is the last connection failure since the last response.
func (w *connWatch) lastErr() error {
	if w == nil {
		return nil
	}
	if p := w.last.Load(); p != nil {
		return *p
	}
	return nil
}

// wrapDial wraps dial (nil: a plain net.Dialer).
func (w *connWatch) wrapDial(dial func(context.Context, string, string) (net.Conn, error)) func(context.Context, string, string) (net.Conn, error) {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := dial(ctx, network, address)
		if err != nil {
			w.note(err)
			return nil, err
		}
		return &checkedConn{Conn: w.silence.Wrap(c), w: w}, nil
	}
}

type checkedConn struct {
	net.Conn
	w      *connWatch
	frames transport.FrameCheck // Read's alone: kafka-go reads from one goroutine
}

func (c *checkedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.w.frames {
		if ferr := c.frames.Scan(p[:n]); ferr != nil {
			c.w.note(ferr)
			_ = c.Conn.Close()
			return 0, ferr
		}
	}
	if n > 0 {
		c.w.last.Store(nil)
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		c.w.note(err)
	}
	return n, err
}

// withConnErr adds the last connection failure to err, kafka-go's
// BROKER_NOT_AVAILABLE for a controller it could not reach, which says
// nothing of why: a refused connection is then reported as such (issue 16
// item 11). The broker's own code stays reachable with errors.As.
func (t *Transport) withConnErr(err error) error {
	last := t.watch.lastErr()
	if last == nil || !isNetworkErr(last) {
		return err
	}
	return &connFailed{err: err, conn: last}
}

type connFailed struct{ err, conn error }

func (e *connFailed) Error() string { return e.err.Error() + " (" + e.conn.Error() + ")" }

func (e *connFailed) Unwrap() []error { return []error{e.err, e.conn} }
