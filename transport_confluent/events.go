//go:build cgo

package confluenttransport

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/ktables/ktables/transport"
)

// health is what the own producer's client-level events tell about the
// connections, which librdkafka keeps retrying by itself: requests would
// otherwise wait out their deadline with nothing to say why.
//
// Every Produce reads it twice (the failure to wait on, then a success to
// record), from as many goroutines as there are writers: those reads are
// atomic loads, and only events and the first success after them take the
// mutex. A mutex on that path serialized concurrent writes (issue 17).
type health struct {
	mu        sync.Mutex
	last      error // the last connection failure since the last success
	saslDrops int   // connections dropped during authentication, in a row
	// failed ends, with the authentication failure as its cause, every
	// call waiting when credentials are rejected. Replaced by a success.
	failed atomic.Pointer[failure]
	// clean says there is nothing for a success to clear: no last
	// failure, no SASL drops, failed not ended.
	clean atomic.Bool
}

// failure ends with the authentication failure as ctx's cause. Produce
// waits on one of done, closed with ctx, rather than on ctx.Done(): a
// channel in a select is locked and queued on by every waiting call, and
// one channel shared by all writers made them contend (issue 17).
type failure struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	done   [failShards]chan struct{}
}

// failShards spreads concurrent writers over that many channels.
const failShards = 16

func (h *health) init() {
	f := &failure{}
	f.ctx, f.cancel = context.WithCancelCause(context.Background())
	for i := range f.done {
		f.done[i] = make(chan struct{})
	}
	h.failed.Store(f)
	h.clean.Store(true)
}

// fail ends the current failure with err, once; h.mu is held.
func (h *health) fail(err error) {
	f := h.failed.Load()
	if f.ctx.Err() != nil {
		return // the first cause stands
	}
	f.cancel(err)
	for _, c := range f.done {
		close(c)
	}
}

// wait is a channel closed when f ends, one of f's shards.
func (f *failure) wait() <-chan struct{} { return f.done[rand.N(failShards)] }

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
		h.clean.Store(false)
		return
	}
	h.last = ke
	h.clean.Store(false)
}

// ok records a call's success: earlier failures are history.
func (h *health) ok() {
	if h.clean.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last, h.saslDrops = nil, 0
	if h.failed.Load().ctx.Err() != nil {
		h.init()
	}
	h.clean.Store(true)
}

// failedCtx is the context that ends when credentials are rejected.
func (h *health) failedCtx() context.Context { return h.failed.Load().ctx }

// current is the current failure, for a call to wait on.
func (h *health) current() *failure { return h.failed.Load() }

// lastErr is the last connection failure since the last success.
func (h *health) lastErr() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
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
// which settles the call's error (see settle). Produce, the hot path,
// waits on a shard of the failure instead: a derived context per call costs
// two more registrations on shared contexts.
func (t *Transport) watch(ctx context.Context) (context.Context, func(error) error) {
	failed := t.h.failedCtx()
	wctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(failed, cancel)
	return wctx, func(err error) error {
		stop()
		cancel()
		return t.settle(ctx, failed, err)
	}
}

// settle is the error of a call that waited under ctx and failed (the
// failedCtx the call started with) and ended with err: the authentication
// failure when credentials were rejected, ctx's error annotated with the
// last connection failure when ctx ended (transport.ContextError), or err.
func (t *Transport) settle(ctx, failed context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return transport.WithLastError(cerr, t.h.lastErr())
	}
	if cause := context.Cause(failed); cause != nil {
		return cause
	}
	if err == nil {
		t.h.ok()
		return nil
	}
	// librdkafka's own timeouts say only "transport failure".
	if c := code(err); c == kafka.ErrTransport || c == kafka.ErrTimedOut {
		if last := t.h.lastErr(); last != nil {
			return fmt.Errorf("%w (last error: %w)", err, last)
		}
	}
	return err
}

// timeoutMs is what a librdkafka call taking a timeout instead of a
// context gets: ctx's remaining time, or def.
func timeoutMs(ctx context.Context, def time.Duration) int {
	if d, ok := ctx.Deadline(); ok {
		return max(1, int(time.Until(d).Milliseconds()))
	}
	return int(def.Milliseconds())
}
