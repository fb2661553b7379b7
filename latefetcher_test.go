package ktables_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// Issue 16.12, SPEC L1: offsets were read but fetching could not start
// before the catch-up timeout. The topic is reachable, so Open returns a
// Degraded table that starts fetching once it can, not "not reachable".
func TestOpenDegradedWhenFetchCannotStartInTime(t *testing.T) {
	noLeak(t)
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 2)
	appendRec(t, c, topic, 1, []byte("k"), []byte("v"))
	c.FailNext(memtransport.OpNewFetcher, 1<<30, transport.ErrBrokerUnavailable)
	tbl, err := ktables.Open(ctx, c.Transport(), topic, ktables.Bytes(),
		ktables.WithCatchUpTimeout(200*time.Millisecond), ktables.WithRetryBackoff(10*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatalf("L1: Open with readable offsets: %v, want a Degraded table", err)
	}
	defer tbl.Close()
	if s := tbl.Status(); s != ktables.StatusDegraded {
		t.Fatalf("status %v, want Degraded", s)
	}
	c.ClearFaults()
	if err := tbl.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if v, ok := tbl.Get("k"); !ok || string(v) != "v" {
		t.Fatalf("Get(k) = %q, %v", v, ok)
	}
	if tbl.Stats().Retries == 0 {
		t.Error("the background retries of NewFetcher are not counted")
	}
}

// Issue 16.12: when not even the offsets could be read, Open says the
// topic is not reachable, keeping the last error.
func TestOpenNotReachableWhenNoOffsets(t *testing.T) {
	noLeak(t)
	c := newCluster(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	c.FailNext(memtransport.OpEndOffsets, 1<<30, transport.ErrBrokerUnavailable)
	_, err := ktables.Open(testCtx(t), c.Transport(), topic, ktables.Bytes(),
		ktables.WithCatchUpTimeout(150*time.Millisecond), ktables.WithRetryBackoff(10*time.Millisecond, 20*time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "not reachable") || !errors.Is(err, transport.ErrBrokerUnavailable) {
		t.Fatalf("Open: %v, want not reachable wrapping the broker error", err)
	}
}

// A fatal error starting the fetch fails Open whatever the timeout.
func TestOpenFailsOnFatalFetchStart(t *testing.T) {
	noLeak(t)
	c := newCluster(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	c.FailNext(memtransport.OpNewFetcher, 1<<30, transport.ErrAuthorization)
	_, err := ktables.Open(testCtx(t), c.Transport(), topic, ktables.Bytes(), ktables.WithCatchUpTimeout(150*time.Millisecond))
	if !errors.Is(err, transport.ErrAuthorization) {
		t.Fatalf("Open: %v, want ErrAuthorization", err)
	}
}
