package kafkatest

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/ktables/ktables/transport"
)

// Helpers for an adapter's own tests, over any transport.Transport. Each
// fails t on error and closes what it opens when t finishes.

// Ctx returns a context that ends when t finishes or after d.
func Ctx(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// NewTopic creates a fresh topic with n partitions and configs through tr
// and waits until tr lists its partitions: real Kafka propagates a new topic
// asynchronously (kfake at once).
func NewTopic(t testing.TB, tr transport.Transport, n int32, configs map[string]string) string {
	t.Helper()
	topic := Topic(t)
	ctx := Ctx(t, 10*time.Second)
	if err := tr.CreateTopic(ctx, transport.TopicSpec{Name: topic, Partitions: n, Configs: configs}); err != nil {
		t.Fatalf("CreateTopic %s: %v", topic, err)
	}
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

// Produce produces rec to topic through tr and returns its offset.
func Produce(t testing.TB, tr transport.Transport, topic string, rec transport.Record) int64 {
	t.Helper()
	off, err := tr.Produce(Ctx(t, 10*time.Second), topic, rec)
	if err != nil {
		t.Fatalf("Produce: %v", err)
	}
	return off
}

// NewFetcher opens a fetcher of topic at from through tr, closed when t
// finishes.
func NewFetcher(t testing.TB, tr transport.Transport, topic string, from map[int32]int64, opts transport.FetchOptions) transport.Fetcher {
	t.Helper()
	f, err := tr.NewFetcher(Ctx(t, 10*time.Second), topic, from, opts)
	if err != nil {
		t.Fatalf("NewFetcher: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// Collected is what a series of polls returned: the records in order and
// the last Next of every partition.
type Collected struct {
	Records []transport.Record
	Next    map[int32]int64
}

// PollUntil polls f until done reports true, failing t if a poll fails, the
// deadline d passes first, or a partition's Next goes back.
func PollUntil(t testing.TB, f transport.Fetcher, d time.Duration, done func(*Collected) bool) *Collected {
	t.Helper()
	ctx := Ctx(t, d)
	c := &Collected{Next: make(map[int32]int64)}
	for !done(c) {
		b, err := f.Poll(ctx)
		if err != nil {
			t.Fatalf("Poll: %v (so far %d records, next %v)", err, len(c.Records), c.Next)
		}
		c.Records = append(c.Records, b.Records...)
		for p, n := range b.Next {
			if old, ok := c.Next[p]; ok && n < old {
				t.Errorf("partition %d: Next went back from %d to %d", p, old, n)
			}
			c.Next[p] = n
		}
	}
	return c
}

// Reached is a done func for PollUntil: every partition in want has Next at
// least its offset.
func Reached(want map[int32]int64) func(*Collected) bool {
	return func(c *Collected) bool {
		for p, o := range want {
			if c.Next[p] < o {
				return false
			}
		}
		return true
	}
}

// NoLeaks fails t if the goroutine count does not come back to base within
// 10 s, after everything was closed, with a dump of the goroutines.
func NoLeaks(t testing.TB, base int) {
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
