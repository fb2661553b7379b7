package saramatransport

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/ktables/ktables/internal/brokertest"
	"github.com/ktables/ktables/transport"
)

// testCtx returns a context that ends with the test or after d.
func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// newT returns a transport over seeds with cfg (nil: NewConfig, which
// reads committed), closed when t ends.
func newT(t *testing.T, seeds []string, cfg *sarama.Config) *Transport {
	t.Helper()
	tr, err := New(seeds, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// newTopic creates a fresh topic with n partitions.
func newTopic(t *testing.T, tr *Transport, n int32, configs map[string]string) string {
	t.Helper()
	topic := brokertest.Topic(t)
	ctx := testCtx(t, 10*time.Second)
	if err := tr.CreateTopic(ctx, transport.TopicSpec{Name: topic, Partitions: n, Configs: configs}); err != nil {
		t.Fatalf("CreateTopic %s: %v", topic, err)
	}
	// Real Kafka propagates a new topic asynchronously; wait until its
	// partitions are listed (immediate on kfake).
	for {
		ps, err := tr.Partitions(ctx, topic)
		if err == nil && int32(len(ps)) == n {
			return topic
		}
		if ctx.Err() != nil {
			t.Fatalf("topic %s not ready: %v", topic, err)
		}
	}
}

func produce(t *testing.T, tr *Transport, topic string, rec transport.Record) int64 {
	t.Helper()
	off, err := tr.Produce(testCtx(t, 10*time.Second), topic, rec)
	if err != nil {
		t.Fatalf("Produce: %v", err)
	}
	return off
}

func newFetcher(t *testing.T, tr *Transport, topic string, from map[int32]int64, opts transport.FetchOptions) transport.Fetcher {
	t.Helper()
	f, err := tr.NewFetcher(testCtx(t, 10*time.Second), topic, from, opts)
	if err != nil {
		t.Fatalf("NewFetcher: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// collected is what a series of polls returned.
type collected struct {
	records []transport.Record
	next    map[int32]int64
}

// pollUntil polls f until done reports true or the deadline passes.
func pollUntil(t *testing.T, f transport.Fetcher, d time.Duration, done func(*collected) bool) *collected {
	t.Helper()
	ctx := testCtx(t, d)
	c := &collected{next: make(map[int32]int64)}
	for !done(c) {
		b, err := f.Poll(ctx)
		if err != nil {
			t.Fatalf("Poll: %v (so far %d records, next %v)", err, len(c.records), c.next)
		}
		c.records = append(c.records, b.Records...)
		for p, n := range b.Next {
			if old, ok := c.next[p]; ok && n < old {
				t.Errorf("partition %d: Next went back from %d to %d", p, old, n)
			}
			c.next[p] = n
		}
	}
	return c
}

// reached reports a done func for pollUntil: every partition in want has
// Next at least its offset.
func reached(want map[int32]int64) func(*collected) bool {
	return func(c *collected) bool {
		for p, o := range want {
			if c.next[p] < o {
				return false
			}
		}
		return true
	}
}

// noLeaks fails t if the goroutine count does not return to base (within
// slack) before a deadline, after everything was closed.
func noLeaks(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines: %d, baseline %d\n%s", n, base, buf)
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond) // polling a count, not synchronizing
	}
}
