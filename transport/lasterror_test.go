package transport_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ktables/ktables/transport"
)

func TestWithLastError(t *testing.T) {
	last := transport.NewError("produce", "t", transport.ErrBrokerUnavailable, errors.New("connection refused"))
	err := transport.WithLastError(context.DeadlineExceeded, last)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v does not match context.DeadlineExceeded", err)
	}
	if transport.IsRetriable(err) || transport.IsFatal(err) {
		t.Fatalf("%v classified as retriable or fatal: the caller's context decides", err)
	}
	if want := "context deadline exceeded (last error: " + last.Error() + ")"; err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err, want)
	}
	if got := transport.WithLastError(context.Canceled, nil); got != context.Canceled {
		t.Fatalf("without a last error: %v, want context.Canceled itself", got)
	}
}
