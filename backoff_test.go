package ktables

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ktables/ktables/transport"
)

// TestRetryPolicyRun pins the one retry loop (issue 14 item 3): a "now"
// attempt skips the backoff step and the observer but counts against the
// bound; a fatal error ends at once; onRetry sees each backed-off failure.
func TestRetryPolicyRun(t *testing.T) {
	bo := backoff{min: time.Microsecond, max: time.Microsecond}
	transient := transport.NewError("produce", "t", transport.ErrNotLeader, nil)
	fatal := transport.NewError("produce", "t", transport.ErrAuthorization, nil)

	var retried []int
	p := retryPolicy{retriable: transport.IsRetriable, retries: 3,
		onRetry: func(_ error, attempt int) { retried = append(retried, attempt) }}
	calls := 0
	err := p.run(context.Background(), bo, func(context.Context, int) (bool, error) {
		calls++
		return calls == 2, transient // the second failure asks for an immediate retry
	})
	if err != transient || calls != 4 || len(retried) != 2 || retried[0] != 0 || retried[1] != 2 {
		t.Fatalf("err %v, calls %d, retried %v; want transient, 4 calls, retried [0 2]", err, calls, retried)
	}

	calls = 0
	err = p.run(context.Background(), bo, func(context.Context, int) (bool, error) { calls++; return false, fatal })
	if err != fatal || calls != 1 {
		t.Fatalf("fatal: err %v after %d calls", err, calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p = retryPolicy{retriable: func(error) bool { return true }, retries: -1, ctxErr: true}
	if err := p.run(ctx, bo, func(context.Context, int) (bool, error) { return false, transient }); !errors.Is(err, context.Canceled) || err != ctx.Err() {
		t.Fatalf("ctxErr: %v, want ctx's error as is", err)
	}
	p.ctxErr = false
	if err := p.run(ctx, bo, func(context.Context, int) (bool, error) { return false, transient }); err != transient {
		t.Fatalf("without ctxErr: %v, want the last failure", err)
	}
}
