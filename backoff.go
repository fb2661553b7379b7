package ktables

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// backoff is exponential with full jitter in [d/2, d], so that many
// processes reconnecting to one broker spread out.
type backoff struct {
	min, max time.Duration
	next     time.Duration
}

func newBackoff(c *config) backoff { return backoff{min: c.backoffMin, max: c.backoffMax} }

func (b *backoff) reset() { b.next = 0 }

func (b *backoff) duration() time.Duration {
	if b.next == 0 {
		b.next = b.min
	}
	d := b.next
	b.next = min(b.next*2, b.max)
	return d/2 + rand.N(d/2+1)
}

// sleep waits for the next backoff step or until ctx is done.
func (b *backoff) sleep(ctx context.Context) error {
	t := time.NewTimer(b.duration())
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retry calls fn until it succeeds, returns a fatal error, or ctx ends; then
// it returns fn's last error (or ctx's error if fn never ran to an error).
// retriable decides which errors are worth another attempt; it sees each
// failed attempt once, so a caller that counts or logs retries does it
// there. It is retryPolicy.run with no bound on attempts.
func retry(ctx context.Context, b backoff, retriable func(error) bool, fn func(context.Context) error) error {
	p := retryPolicy{
		retries: -1,
		// A failure after ctx ended is final: fn's own error says more
		// than ctx's.
		retriable: func(err error) bool { return retriable(err) && ctx.Err() == nil },
	}
	return p.run(ctx, b, func(ctx context.Context, _ int) (bool, error) { return false, fn(ctx) })
}

// retryPolicy is how a retry loop decides, and run is the one retry loop of
// the core: every caller that repeats a call goes through it (retry above,
// the writer's produce loop). The reader, which keeps one fetch session
// going rather than repeating a call, steps the same backoff on transient
// Poll errors.
type retryPolicy struct {
	// retriable decides whether a failed attempt is worth another one.
	retriable func(error) bool
	// retries bounds the attempts after the first; negative: no bound.
	retries int
	// onRetry, if set, sees each failure that is retried after a backoff
	// step, before the step.
	onRetry func(err error, attempt int)
	// ctxErr makes a backoff step cut short by ctx return ctx's error as
	// is, rather than the last failure.
	ctxErr bool
}

// run calls fn with the attempt number (0 first) until it succeeds or fails
// for good, and returns its last error. fn reports with now (true) that the next
// attempt may go at once (it learnt something that can make it succeed,
// such as a new partition): that attempt skips the retriable check and the
// backoff step but still counts against retries.
func (p retryPolicy) run(ctx context.Context, b backoff, fn func(ctx context.Context, attempt int) (now bool, err error)) error {
	var last error // the last failure that was not ctx's own
	for attempt := 0; ; attempt++ {
		now, err := fn(ctx, attempt)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) && last != nil && !p.ctxErr {
			// The attempt ran out of time: the failure before it says
			// why the loop did not succeed.
			return last
		}
		last = err
		more := p.retries < 0 || attempt < p.retries
		if now && more {
			continue
		}
		if !more || !p.retriable(err) {
			return err
		}
		if p.onRetry != nil {
			p.onRetry(err, attempt)
		}
		if b.sleep(ctx) != nil {
			if p.ctxErr {
				return ctx.Err()
			}
			return err
		}
	}
}
