package memtransport_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// topicName derives a valid, unique topic name from the test's name.
func topicName(t *testing.T) string {
	return strings.NewReplacer("/", ".", " ", "_", "#", "_").Replace(t.Name())
}

// setup returns a fresh client (closed at cleanup) and a topic with n
// partitions.
func setup(t *testing.T, n int32, opts ...memtransport.ClusterOption) (*memtransport.Transport, string) {
	t.Helper()
	tr := memtransport.New(opts...)
	t.Cleanup(func() { tr.Close() })
	name := topicName(t)
	if err := tr.CreateTopic(context.Background(), transport.TopicSpec{Name: name, Partitions: n}); err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	return tr, name
}

func produce(t *testing.T, tr *memtransport.Transport, topic string, p int32, key, value string) int64 {
	t.Helper()
	off, err := tr.Produce(context.Background(), topic, transport.Record{Partition: p, Key: []byte(key), Value: []byte(value)})
	if err != nil {
		t.Fatalf("Produce: %v", err)
	}
	return off
}

func newFetcher(t *testing.T, tr *memtransport.Transport, topic string, from map[int32]int64, wait time.Duration) transport.Fetcher {
	t.Helper()
	f, err := tr.NewFetcher(context.Background(), topic, from, transport.FetchOptions{MaxWait: wait})
	if err != nil {
		t.Fatalf("NewFetcher: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func poll(t *testing.T, f transport.Fetcher) transport.Batch {
	t.Helper()
	b, err := f.Poll(context.Background())
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	return b
}

// wantKind checks err's kind and class.
func wantKind(t *testing.T, err, kind error, retriable bool) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want kind %v", err, kind)
	}
	if got := transport.IsRetriable(err); got != retriable {
		t.Fatalf("IsRetriable(%v) = %v, want %v", err, got, retriable)
	}
	if got := errors.Is(err, transport.ErrFatal); got == retriable {
		t.Fatalf("errors.Is(%v, ErrFatal) = %v, want %v", err, got, !retriable)
	}
}

func offsets(b transport.Batch) []int64 {
	var out []int64
	for _, r := range b.Records {
		out = append(out, r.Offset)
	}
	return out
}

type pollResult struct {
	b   transport.Batch
	err error
}

// pollAsync runs one Poll in a goroutine; receive its result from the channel.
func pollAsync(ctx context.Context, f transport.Fetcher) <-chan pollResult {
	done := make(chan pollResult, 1)
	go func() {
		b, err := f.Poll(ctx)
		done <- pollResult{b, err}
	}()
	return done
}
