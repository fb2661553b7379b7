package ktables_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

var topicSeq atomic.Int64

// topicName makes a unique, valid topic name for a test.
func topicName(t testing.TB) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, t.Name())
	if len(name) > 200 {
		name = name[:200]
	}
	return fmt.Sprintf("%s.%d", name, topicSeq.Add(1))
}

// newCluster returns an in-memory cluster with a short long-poll, closed at
// the end of the test.
func newCluster(t testing.TB) *memtransport.Cluster {
	t.Helper()
	c := memtransport.NewCluster(memtransport.WithDefaultFetchWait(100 * time.Millisecond))
	t.Cleanup(func() { c.Close() })
	return c
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func createTopic(t testing.TB, c *memtransport.Cluster, topic string, partitions int32) {
	t.Helper()
	err := c.CreateTopic(transport.TopicSpec{Name: topic, Partitions: partitions, Configs: map[string]string{"cleanup.policy": "compact"}})
	if err != nil {
		t.Fatal(err)
	}
}

// appendRec writes a raw record to partition p, bypassing the writer.
func appendRec(t testing.TB, c *memtransport.Cluster, topic string, p int32, key, value []byte) int64 {
	t.Helper()
	off, err := c.Append(topic, transport.Record{Key: key, Value: value, Partition: p})
	if err != nil {
		t.Fatal(err)
	}
	return off
}

func openBytes(t testing.TB, ctx context.Context, tr transport.Transport, topic string, opts ...ktables.Option) *ktables.Table[[]byte] {
	t.Helper()
	tbl, err := ktables.Open(ctx, tr, topic, ktables.Bytes(), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { tbl.Close() })
	return tbl
}

func openWriter(t testing.TB, ctx context.Context, tr transport.Transport, topic string, opts ...ktables.Option) *ktables.Writer[[]byte] {
	t.Helper()
	w, err := ktables.OpenWriter(ctx, tr, topic, ktables.Bytes(), opts...)
	if err != nil {
		t.Fatalf("OpenWriter: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond) // polling interval, not synchronization
	}
}

// snapshotString renders a map for comparison in failure messages.
func equalMaps(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || string(v) != string(w) || (v == nil) != (w == nil) {
			return false
		}
	}
	return true
}

// noLeak checks that the goroutine count returns to what it was (SPEC L6).
func noLeak(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				n := runtime.Stack(buf, true)
				t.Errorf("L6: %d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, buf[:n])
				return
			}
			time.Sleep(time.Millisecond) // polling interval
		}
	})
}

func recordKV(k, v string) transport.Record {
	return transport.Record{Key: []byte(k), Value: []byte(v)}
}
