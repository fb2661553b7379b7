//go:build cgo

package confluenttransport

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/ktables/ktables/transport"
)

// health is what the own producer's client-level events tell about the
// connections, which librdkafka keeps retrying by itself: requests would
// otherwise wait out their deadline with nothing to say why.
type health struct {
	mu        sync.Mutex
	last      error // the last connection failure since the last success
	saslDrops int   // connections dropped during authentication, in a row
	// failed ends, with the authentication failure as its cause, every
	// call waiting when credentials are rejected. Replaced by a success.
	failed context.Context
	fail   context.CancelCauseFunc
}

func (h *health) init() { h.failed, h.fail = context.WithCancelCause(context.Background()) }

// note records one client-level error event.
func (h *health) note(ke kafka.Error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	msg := ke.String()
	switch code := ke.Code(); {
	case code == kafka.ErrAllBrokersDown:
		return // a summary: the broker's own event says why
	case code == kafka.ErrAuthentication:
		h.fail(transport.NewError("authenticate", "", transport.ErrAuthentication, ke))
	case code == kafka.ErrTransport && strings.Contains(msg, "SASL authentication error"):
		// A broker that rejects credentials by closing the connection
		// (SaslHandshake v0, kfake) is reported as a transport failure
		// during authentication. Twice in a row is a rejection, not a
		// network fault that happened to hit the handshake.
		if h.saslDrops++; h.saslDrops >= 2 {
			h.fail(transport.NewError("authenticate", "", transport.ErrAuthentication, ke))
		}
	case strings.Contains(msg, "Connection refused"):
		// librdkafka gives strerror's text, not the errno: restore it,
		// so that errors.Is finds it and the text says it (issue 16).
		h.last = fmt.Errorf("%w: %w", syscall.ECONNREFUSED, ke)
		return
	}
	h.last = ke
}

// ok records a call's success: earlier failures are history.
func (h *health) ok() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last, h.saslDrops = nil, 0
	if h.failed.Err() != nil {
		h.init()
	}
}

func (h *health) state() (context.Context, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failed, h.last
}

// drain reads the own producer's events: delivery reports go to each
// call's channel, so what arrives here is client-level.
func (t *Transport) drain(p *kafka.Producer) {
	defer close(t.drained)
	for ev := range p.Events() {
		if ke, ok := ev.(kafka.Error); ok {
			t.h.note(ke)
		}
	}
}

// watch returns ctx, also ended when credentials are rejected, and done,
// which settles the call's error: the authentication failure when that
// ended it, ctx's error annotated with the last connection failure when
// ctx ended (transport.ContextError), or err.
func (t *Transport) watch(ctx context.Context) (context.Context, func(error) error) {
	failed, _ := t.h.state()
	wctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(failed, cancel)
	return wctx, func(err error) error {
		stop()
		cancel()
		if cerr := ctx.Err(); cerr != nil {
			_, last := t.h.state()
			return transport.WithLastError(cerr, last)
		}
		if cause := context.Cause(failed); cause != nil && (err != nil || wctx.Err() != nil) {
			return cause
		}
		if err == nil {
			t.h.ok()
			return nil
		}
		// librdkafka's own timeouts say only "transport failure".
		if c := code(err); c == kafka.ErrTransport || c == kafka.ErrTimedOut {
			if _, last := t.h.state(); last != nil {
				return fmt.Errorf("%w (last error: %w)", err, last)
			}
		}
		return err
	}
}

// timeoutMs is what a librdkafka call taking a timeout instead of a
// context gets: ctx's remaining time, or def.
func timeoutMs(ctx context.Context, def time.Duration) int {
	if d, ok := ctx.Deadline(); ok {
		return max(1, int(time.Until(d).Milliseconds()))
	}
	return int(def.Milliseconds())
}
