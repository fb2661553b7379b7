package franztransport

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"

	"github.com/ktables/ktables/transport"
)

// saslWatch makes rejected SASL credentials fail fast and clearly.
//
// A broker that rejects credentials with SASL_AUTHENTICATION_FAILED (Kafka
// 1.0+) makes kgo fail the request with kerr.SaslAuthenticationFailed, which
// maps to transport.ErrAuthentication directly. Some brokers instead close
// the connection in the middle of the SASL exchange: Kafka before 1.0, and
// kfake. kgo then sees io.EOF, takes it for a network fault and retries the
// request until its retry timeout, so a wrong password would look like an
// unreachable broker for a long time.
//
// saslWatch is a kgo hook on every client the transport creates. When SASL
// exchanges fail twice in a row (kgo itself retries a failed SASL once on a
// new connection) with no authenticated request in between, it cancels the
// operations in flight with a cause that the adapter reports as
// transport.ErrAuthentication.
type saslWatch struct {
	// off: the clients use no SASL, so there is nothing to watch and
	// watch costs nothing (it would otherwise put a shared lock and map on
	// every produce).
	off     atomic.Bool
	mu      sync.Mutex
	fails   int
	next    uint64
	waiters map[uint64]context.CancelCauseFunc
}

var _ kgo.HookBrokerRead = (*saslWatch)(nil)

// usesSASL reports whether cl authenticates with SASL.
func usesSASL(cl *kgo.Client) bool {
	mechs, _ := cl.OptValue(kgo.SASL).([]sasl.Mechanism)
	return len(mechs) > 0
}

func newSASLWatch() *saslWatch {
	return &saslWatch{waiters: make(map[uint64]context.CancelCauseFunc)}
}

// OnBrokerRead implements kgo.HookBrokerRead.
func (w *saslWatch) OnBrokerRead(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	switch kmsg.Key(key) {
	case kmsg.SASLAuthenticate, kmsg.SASLHandshake:
		if err == nil {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.fails++
		if w.fails < transport.SASLFailThreshold {
			return
		}
		cause := &transport.SASLClosedError{Err: err}
		for id, cancel := range w.waiters {
			cancel(cause)
			delete(w.waiters, id)
		}
	case kmsg.ApiVersions:
	default:
		if err == nil { // an authenticated connection works
			w.mu.Lock()
			w.fails = 0
			w.mu.Unlock()
		}
	}
}

// watch returns a context derived from ctx that is cancelled when the
// credentials are found rejected, and a func to call when done.
func (w *saslWatch) watch(ctx context.Context) (context.Context, func()) {
	if w.off.Load() {
		return ctx, func() {}
	}
	wctx, cancel := context.WithCancelCause(ctx)
	w.mu.Lock()
	id := w.next
	w.next++
	w.waiters[id] = cancel
	w.mu.Unlock()
	return wctx, func() {
		w.mu.Lock()
		delete(w.waiters, id)
		w.mu.Unlock()
		cancel(nil)
	}
}

// finish classifies err from an operation that ran under wctx, a watch of
// ctx (transport.Finish): ctx's own error wins, then a rejected-credentials
// cause of wctx, then the usual mapping.
func finish(ctx, wctx context.Context, op, topic string, err error) error {
	return finishWith(ctx, wctx, op, topic, err, nil)
}

// finishWith is finish, with ctx's error annotated by last, the last
// connection failure.
func finishWith(ctx, wctx context.Context, op, topic string, err, last error) error {
	return transport.Finish(ctx, err, transport.Ending{Op: op, Topic: topic, Classify: classify, Last: last,
		SASL: func(error) *transport.SASLClosedError {
			se, _ := errors.AsType[*transport.SASLClosedError](context.Cause(wctx))
			return se
		}})
}
