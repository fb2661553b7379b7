package kafkagotransport

import (
	"context"
	"errors"
	"sync"

	"github.com/segmentio/kafka-go/sasl"

	"github.com/segmentio/kafka-go"

	"github.com/ktables/ktables/transport"
)

// saslWatch makes rejected SASL credentials fail fast and clearly.
//
// A broker that rejects credentials with SASL_AUTHENTICATION_FAILED makes
// kafka-go fail with kafka.SASLAuthenticationFailed, which maps to
// transport.ErrAuthentication directly. Some brokers instead close the
// connection in the middle of the exchange (Kafka before 1.0, and kfake).
// kafka-go means to report that as SASLAuthenticationFailed too, but it
// tests for io.EOF while its decoder reports io.ErrUnexpectedEOF, so the
// caller sees a network error, which is retriable: a wrong password would
// look like an unreachable broker until every deadline passed.
//
// saslWatch wraps the mechanism of every kafka.Transport the adapter
// creates and sees each exchange start and complete. When exchanges break
// twice in a row (started, never completed) with no completed exchange in
// between, network errors are reported as transport.ErrAuthentication.
type saslWatch struct {
	sasl.Mechanism

	mu    sync.Mutex
	fails int       // exchanges in a row that started and never completed
	cur   *exchange // the latest exchange
}

type exchange struct{ done bool }

func newSASLWatch(m sasl.Mechanism) *saslWatch {
	if m == nil {
		return nil
	}
	if w, ok := m.(*saslWatch); ok {
		return w
	}
	return &saslWatch{Mechanism: m}
}

// Start implements sasl.Mechanism.
func (w *saslWatch) Start(ctx context.Context) (sasl.StateMachine, []byte, error) {
	sm, ir, err := w.Mechanism.Start(ctx)
	ex := &exchange{}
	w.mu.Lock()
	if w.cur != nil && !w.cur.done {
		w.fails++
	}
	w.cur = ex
	w.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	return &watchedSession{StateMachine: sm, w: w, ex: ex}, ir, nil
}

type watchedSession struct {
	sasl.StateMachine
	w  *saslWatch
	ex *exchange
}

// Next implements sasl.StateMachine.
func (s *watchedSession) Next(ctx context.Context, challenge []byte) (bool, []byte, error) {
	done, resp, err := s.StateMachine.Next(ctx, challenge)
	if done && err == nil {
		s.w.mu.Lock()
		s.ex.done = true
		s.w.fails = 0
		s.w.mu.Unlock()
	}
	return done, resp, err
}

// broken reports whether the latest exchange broke off and the one before
// it did too.
func (w *saslWatch) broken() (latest, blamed bool) {
	if w == nil {
		return false, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	latest = w.cur != nil && !w.cur.done
	return latest, latest && w.fails+1 >= transport.SASLFailThreshold
}

// wrap classifies err like the package-level wrap, blaming the credentials
// for a network error when saslWatch says so.
func (t *Transport) wrap(ctx context.Context, op, topic string, err error) error {
	if err == nil {
		return nil
	}
	if ctx != nil && ctx.Err() != nil {
		return transport.WithLastError(ctx.Err(), t.lastConnErr())
	}
	if errors.Is(err, kafka.BrokerNotAvailable) {
		err = t.withConnErr(err)
	}
	if _, ok := errors.AsType[*transport.Error](err); !ok && isNetworkErr(err) {
		if _, blamed := t.sasl.broken(); blamed {
			return transport.NewError(op, topic, transport.ErrAuthentication, &transport.SASLClosedError{Err: err})
		}
	}
	return wrap(ctx, op, topic, err)
}
