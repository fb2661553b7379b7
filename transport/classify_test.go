package transport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/ktables/ktables/transport"
)

// SPEC X6: Kafka protocol codes map to the same kinds for every client.
func TestKafkaCode(t *testing.T) {
	cases := []struct {
		code      int16
		kind      error
		retriable bool
	}{
		{29, transport.ErrAuthorization, false},
		{31, transport.ErrAuthorization, false},
		{58, transport.ErrAuthentication, false},
		{3, transport.ErrUnknownTopic, false},
		{6, transport.ErrNotLeader, true},
		{7, transport.ErrTimeout, true},
		{36, transport.ErrTopicExists, false},
		{40, transport.ErrInvalidConfig, false},
		{10, transport.ErrRecordTooLarge, false},
	}
	for _, c := range cases {
		kind, retriable, known := transport.KafkaCode(c.code)
		if !known || kind != c.kind || retriable != c.retriable {
			t.Errorf("code %d: %v %v %v", c.code, kind, retriable, known)
		}
	}
	if _, _, known := transport.KafkaCode(9999); known {
		t.Error("unknown code reported known")
	}
}

func TestWrap(t *testing.T) {
	classify := func(error) (error, bool) { return transport.ErrAuthorization, false }
	native := fmt.Errorf("native")
	err := transport.Wrap(context.Background(), "fetch", "t", native, classify)
	if !errors.Is(err, transport.ErrAuthorization) || !transport.IsFatal(err) || !errors.Is(err, native) {
		t.Fatalf("Wrap: %v", err)
	}
	if again := transport.Wrap(context.Background(), "x", "", err, classify); again != err {
		t.Fatal("a *transport.Error must pass through unchanged")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := transport.Wrap(ctx, "fetch", "t", native, classify); err != context.Canceled {
		t.Fatalf("done ctx: %v", err)
	}
	if transport.Wrap(context.Background(), "x", "", nil, classify) != nil {
		t.Fatal("nil")
	}
}

func TestIsNetworkError(t *testing.T) {
	for _, err := range []error{io.EOF, fmt.Errorf("read: %w", syscall.ECONNRESET), &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}} {
		if !transport.IsNetworkError(err) {
			t.Errorf("%v not a network error", err)
		}
	}
	if transport.IsNetworkError(errors.New("boom")) {
		t.Error("plain error is not a network error")
	}
}
