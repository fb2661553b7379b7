package kafkagotransport

import (
	"context"
	"errors"
	"fmt"
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

// wrap classifies err from a call under ctx (transport.Finish): the last
// connection failure, when it is a network error, explains kafka-go's
// BROKER_NOT_AVAILABLE for a controller it could not reach (issue 16 item
// 11), and credentials the SASL watch rejected are blamed for network
// errors.
func (t *Transport) wrap(ctx context.Context, op, topic string, err error) error {
	return transport.Finish(ctx, err, transport.Ending{Op: op, Topic: topic, Classify: classify, Last: t.lastConnErr(),
		Join: func(err, last error) error {
			if errors.Is(err, kafka.BrokerNotAvailable) && isNetworkErr(last) {
				return fmt.Errorf("%w (%w)", err, last) // the broker's code stays reachable with errors.As
			}
			return err
		},
		SASL: func(err error) *transport.SASLClosedError {
			if _, blamed := t.sasl.broken(); blamed && isNetworkErr(err) {
				return &transport.SASLClosedError{Err: err}
			}
			return nil
		}})
}
