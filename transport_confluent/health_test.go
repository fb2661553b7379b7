//go:build cgo

package confluenttransport

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/ktables/ktables/transport"
)

// Every Produce records its success (ok) and reads the failure to wait on
// (failedCtx); with nothing to clear, neither may wait for the mutex that
// events take, or concurrent writers queue on it (issue 17).
func TestHealthHotPathTakesNoLock(t *testing.T) {
	var h health
	h.init()
	h.mu.Lock()
	done := make(chan struct{})
	go func() {
		h.ok()
		_ = h.failedCtx()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ok or failedCtx waited for the mutex")
	}
	h.mu.Unlock()
}

// A success still clears what events noted, and replaces an ended failure.
func TestHealthSuccessClears(t *testing.T) {
	var h health
	h.init()
	h.note(kafka.NewError(kafka.ErrTransport, "broker: Connection refused", false))
	if err := h.lastErr(); err == nil {
		t.Fatal("no last error after a connection failure")
	}
	h.ok()
	if err := h.lastErr(); err != nil {
		t.Fatalf("last error after a success: %v", err)
	}

	failed := h.failedCtx()
	h.note(kafka.NewError(kafka.ErrAuthentication, "bad credentials", false))
	if cause := context.Cause(failed); !errors.Is(cause, transport.ErrAuthentication) {
		t.Fatalf("failed's cause after an authentication error: %v", cause)
	}
	h.ok()
	if h.failedCtx() == failed || h.failedCtx().Err() != nil {
		t.Fatal("an ended failure was not replaced by a success")
	}
	h.ok() // clean again: the fast path
	if err := h.lastErr(); err != nil {
		t.Fatalf("last error: %v", err)
	}
}

// An authentication failure wakes a call waiting on any shard.
func TestHealthFailureClosesEveryShard(t *testing.T) {
	var h health
	h.init()
	f := h.current()
	h.note(kafka.NewError(kafka.ErrAuthentication, "bad credentials", false))
	h.note(kafka.NewError(kafka.ErrAuthentication, "again", false)) // no double close
	for i, c := range f.done {
		select {
		case <-c:
		default:
			t.Fatalf("shard %d still open after the failure", i)
		}
	}
	if cause := context.Cause(f.ctx); !errors.Is(cause, transport.ErrAuthentication) {
		t.Fatalf("cause %v", cause)
	}
}
