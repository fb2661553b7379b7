package ktables

import (
	"context"
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
// there. Every retry loop of the core goes through this function; the
// reader, which keeps one fetch session going rather than repeating a call,
// steps the same backoff on transient Poll errors.
func retry(ctx context.Context, b backoff, retriable func(error) bool, fn func(context.Context) error) error {
	for {
		err := fn(ctx)
		if err == nil || !retriable(err) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		if b.sleep(ctx) != nil {
			return err
		}
	}
}
