package memtransport_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

func TestFailNextRetriableThenRecovers(t *testing.T) {
	tr, topic := setup(t, 1)
	c := tr.Cluster()
	c.FailNext(memtransport.OpProduce, 2, transport.NewError("produce", topic, transport.ErrBrokerUnavailable, nil))
	ctx := context.Background()
	for range 2 {
		_, err := tr.Produce(ctx, topic, transport.Record{Value: []byte("v")})
		wantKind(t, err, transport.ErrBrokerUnavailable, true)
	}
	if off, err := tr.Produce(ctx, topic, transport.Record{Value: []byte("v")}); err != nil || off != 0 {
		t.Fatalf("third produce: %d, %v (failed produces must not append)", off, err)
	}
	if n := c.Calls(memtransport.OpProduce); n != 3 {
		t.Fatalf("Calls = %d, want 3", n)
	}
}

func TestFailNextClassifies(t *testing.T) {
	tr, topic := setup(t, 1)
	c := tr.Cluster()
	ctx := context.Background()

	// A bare sentinel becomes a transport.Error of that kind and class.
	c.FailNext(memtransport.OpPartitions, 1, transport.ErrAuthorization)
	_, err := tr.Partitions(ctx, topic)
	wantKind(t, err, transport.ErrAuthorization, false)
	var te *transport.Error
	if !errors.As(err, &te) || te.Op != "partitions" || te.Topic != topic {
		t.Fatalf("err = %#v", err)
	}

	// A native error matching no sentinel is retriable and stays reachable.
	c.FailNext(memtransport.OpEndOffsets, 1, io.ErrUnexpectedEOF)
	_, err = tr.EndOffsets(ctx, topic, []int32{0})
	if !errors.Is(err, io.ErrUnexpectedEOF) || !transport.IsRetriable(err) {
		t.Fatalf("err = %v", err)
	}

	// nil means a retriable broker fault.
	c.FailNext(memtransport.OpStartOffsets, 1, nil)
	_, err = tr.StartOffsets(ctx, topic, []int32{0})
	wantKind(t, err, transport.ErrBrokerUnavailable, true)

	// A transport.Error passes through with its own class.
	custom := &transport.Error{Op: "x", Kind: transport.ErrUnknownTopic, Retriable: true}
	c.FailNext(memtransport.OpFetch, 1, custom)
	f := newFetcher(t, tr, topic, map[int32]int64{0: 0}, time.Millisecond)
	_, err = f.Poll(ctx)
	if err != custom || !transport.IsRetriable(err) {
		t.Fatalf("err = %v, want the injected error", err)
	}
	// The fetcher keeps working after a fault.
	poll(t, f)
}

func TestFailNextQueueAndForever(t *testing.T) {
	tr, topic := setup(t, 1)
	c := tr.Cluster()
	ctx := context.Background()
	c.FailNext(memtransport.OpCreateTopic, 1, transport.ErrTimeout)
	c.FailNext(memtransport.OpCreateTopic, 1, transport.ErrAuthorization)
	wantKind(t, tr.CreateTopic(ctx, transport.TopicSpec{Name: "x"}), transport.ErrTimeout, true)
	wantKind(t, tr.CreateTopic(ctx, transport.TopicSpec{Name: "x"}), transport.ErrAuthorization, false)
	if err := tr.CreateTopic(ctx, transport.TopicSpec{Name: "x"}); err != nil {
		t.Fatal(err)
	}

	c.FailNext(memtransport.OpDescribeConfig, -1, transport.ErrAuthorization)
	for range 5 {
		_, err := tr.DescribeTopicConfig(ctx, topic)
		wantKind(t, err, transport.ErrAuthorization, false)
	}
	c.ClearFaults()
	if _, err := tr.DescribeTopicConfig(ctx, topic); err != nil {
		t.Fatal(err)
	}
	// Faults on one op leave the others alone.
	c.FailNext(memtransport.OpAlterConfig, 1, nil)
	if _, err := tr.DescribeTopicConfig(ctx, topic); err != nil {
		t.Fatal(err)
	}
	c.FailNext(memtransport.OpNewFetcher, 1, nil)
	_, err := tr.NewFetcher(ctx, topic, nil, transport.FetchOptions{})
	wantKind(t, err, transport.ErrBrokerUnavailable, true)
	c.FailNext(memtransport.OpCreatePartitions, 1, transport.ErrUnsupported)
	wantKind(t, tr.CreatePartitions(ctx, topic, 2), transport.ErrUnsupported, false)
}

func TestLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, topic := setup(t, 1)
		c := tr.Cluster()
		c.SetLatency(memtransport.OpEndOffsets, 100*time.Millisecond)
		start := time.Now()
		if _, err := tr.EndOffsets(context.Background(), topic, []int32{0}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 100*time.Millisecond {
			t.Fatalf("took %v, want 100ms", d)
		}
		// Other ops are not delayed.
		start = time.Now()
		tr.StartOffsets(context.Background(), topic, []int32{0})
		if d := time.Since(start); d != 0 {
			t.Fatalf("StartOffsets took %v", d)
		}
		// The context cuts the latency short.
		c.SetLatency(memtransport.OpProduce, time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start = time.Now()
		_, err := tr.Produce(ctx, topic, transport.Record{})
		if err != context.DeadlineExceeded || time.Since(start) != time.Second {
			t.Fatalf("err = %v after %v", err, time.Since(start))
		}
		// Latency comes before the long poll.
		c.ClearFaults()
		c.SetLatency(memtransport.OpFetch, time.Second)
		f := newFetcher(t, tr, topic, map[int32]int64{0: 0}, 500*time.Millisecond)
		start = time.Now()
		poll(t, f)
		if d := time.Since(start); d != 1500*time.Millisecond {
			t.Fatalf("Poll took %v, want 1.5s", d)
		}
	})
}

// Calls counts every call, so a test can prove a path never hit the broker.
func TestCalls(t *testing.T) {
	tr, topic := setup(t, 1)
	c := tr.Cluster()
	if n := c.Calls(memtransport.OpCreateTopic); n != 1 {
		t.Fatalf("CreateTopic calls %d", n)
	}
	if n := c.Calls(memtransport.OpEndOffsets); n != 0 {
		t.Fatalf("EndOffsets calls %d", n)
	}
	c.Append(topic, transport.Record{}) // cluster methods are not client calls
	if n := c.Calls(memtransport.OpProduce); n != 0 {
		t.Fatalf("Produce calls %d", n)
	}
	f := newFetcher(t, tr, topic, map[int32]int64{0: 0}, time.Millisecond)
	poll(t, f)
	poll(t, f)
	if n := c.Calls(memtransport.OpFetch); n != 2 {
		t.Fatalf("Fetch calls %d", n)
	}
	if s := memtransport.OpFetch.String(); s != "fetch" {
		t.Fatalf("OpFetch.String() = %q", s)
	}
}
