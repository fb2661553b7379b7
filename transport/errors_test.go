package transport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/ktables/ktables/transport"
)

type nativeErr struct{ code int }

func (e *nativeErr) Error() string { return fmt.Sprintf("native code %d", e.code) }

// SPEC X6: sentinel, class and native error are all reachable.
func TestErrorClassification(t *testing.T) {
	native := &nativeErr{code: 29}
	err := fmt.Errorf("wrapped: %w", transport.NewError("fetch", "t", transport.ErrAuthorization, native))
	if !errors.Is(err, transport.ErrAuthorization) {
		t.Error("X6 errors.Is(kind) failed")
	}
	if !errors.Is(err, transport.ErrFatal) || !transport.IsFatal(err) || transport.IsRetriable(err) {
		t.Error("X6 authorization must be fatal")
	}
	var ne *nativeErr
	if !errors.As(err, &ne) || ne.code != 29 {
		t.Error("X6 native error not reachable with errors.As")
	}
	var te *transport.Error
	if !errors.As(err, &te) || te.Op != "fetch" {
		t.Error("X6 *transport.Error not reachable")
	}

	cases := []struct {
		kind      error
		retriable bool
	}{
		{transport.ErrTopicExists, false},
		{transport.ErrUnknownTopic, false},
		{transport.ErrUnknownPartition, true},
		{transport.ErrAuthentication, false},
		{transport.ErrInvalidConfig, false},
		{transport.ErrRecordTooLarge, false},
		{transport.ErrBrokerUnavailable, true},
		{transport.ErrNotLeader, true},
		{transport.ErrTimeout, true},
		{transport.ErrClosed, false},
		{nil, true},
	}
	for _, c := range cases {
		e := transport.NewError("op", "", c.kind, io.EOF)
		if got := transport.IsRetriable(e); got != c.retriable {
			t.Errorf("X6 kind %v: retriable=%v want %v", c.kind, got, c.retriable)
		}
		if got := transport.IsFatal(e); got == c.retriable {
			t.Errorf("X6 kind %v: fatal=%v", c.kind, got)
		}
	}
}

func TestUnclassifiedErrors(t *testing.T) {
	if !transport.IsRetriable(io.ErrUnexpectedEOF) {
		t.Error("unclassified network error should be retriable")
	}
	if transport.IsRetriable(context.Canceled) || transport.IsRetriable(fmt.Errorf("x: %w", context.DeadlineExceeded)) {
		t.Error("context errors are the caller's, not retriable")
	}
	if transport.IsRetriable(nil) || transport.IsFatal(nil) {
		t.Error("nil is neither")
	}
	override := transport.NewError("produce", "t", transport.ErrTimeout, nil)
	override.Retriable = false
	if !transport.IsFatal(override) {
		t.Error("explicit class override ignored")
	}
	if got := override.Error(); got != "transport: produce t: request timed out" {
		t.Errorf("message %q", got)
	}
}
