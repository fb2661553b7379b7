package kafkagotransport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/internal/brokertest"
	"github.com/ktables/ktables/transport"
)

func TestRoundTrip(t *testing.T) {
	tr := newT(t, brokertest.Start(t))
	topic := brokertest.NewTopic(t, tr, 1, nil)
	ts := time.UnixMilli(1_700_000_000_123)
	in := []transport.Record{
		{Key: []byte("tomb"), Value: nil},           // tombstone
		{Key: []byte("empty"), Value: []byte{}},     // empty data, not a tombstone
		{Key: nil, Value: []byte("keyless")},        // keyless
		{Key: []byte{}, Value: []byte("empty key")}, // empty key is a key
		{Key: []byte("h"), Value: []byte("v"), Timestamp: ts, Headers: []transport.Header{
			{Key: "a", Value: []byte("1")}, {Key: "a", Value: nil}, {Key: "b", Value: []byte{}},
		}},
	}
	for i, r := range in {
		if off := brokertest.Produce(t, tr, topic, r); off != int64(i) {
			t.Fatalf("record %d got offset %d", i, off)
		}
	}
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{})
	got := brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(map[int32]int64{0: int64(len(in))}))
	if len(got.Records) != len(in) {
		t.Fatalf("got %d records, want %d", len(got.Records), len(in))
	}
	for i, r := range got.Records {
		w := in[i]
		if r.Offset != int64(i) || r.Partition != 0 {
			t.Errorf("record %d: offset %d partition %d", i, r.Offset, r.Partition)
		}
		if (r.Key == nil) != (w.Key == nil) || !bytes.Equal(r.Key, w.Key) {
			t.Errorf("record %d: key %q (nil %v), want %q (nil %v)", i, r.Key, r.Key == nil, w.Key, w.Key == nil)
		}
		if (r.Value == nil) != (w.Value == nil) || !bytes.Equal(r.Value, w.Value) {
			t.Errorf("record %d: value %q (nil %v), want %q (nil %v)", i, r.Value, r.Value == nil, w.Value, w.Value == nil)
		}
		if len(r.Headers) != len(w.Headers) {
			t.Errorf("record %d: headers %v, want %v", i, r.Headers, w.Headers)
		}
		for j := range min(len(r.Headers), len(w.Headers)) {
			if r.Headers[j].Key != w.Headers[j].Key || !bytes.Equal(r.Headers[j].Value, w.Headers[j].Value) {
				t.Errorf("record %d header %d: %v, want %v", i, j, r.Headers[j], w.Headers[j])
			}
		}
		if !w.Timestamp.IsZero() && !r.Timestamp.Equal(w.Timestamp) {
			t.Errorf("record %d: timestamp %v, want %v", i, r.Timestamp, w.Timestamp)
		}
		if w.Timestamp.IsZero() && r.Timestamp.IsZero() {
			t.Errorf("record %d: zero timestamp; kgo should stamp produce time", i)
		}
	}
}

func TestPartitionHonoured(t *testing.T) {
	seeds := brokertest.Start(t)
	tr := newT(t, seeds)
	topic := brokertest.NewTopic(t, tr, 3, nil)

	// The same key to different explicit partitions: kafka-go's balancers
	// (round-robin by default) never choose.
	for i := range 3 {
		if off := brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("same-key"), Value: []byte("x"), Partition: 2}); off != int64(i) {
			t.Fatalf("offset %d, want %d", off, i)
		}
	}
	// NewFromClient over a plain kafka.Client.
	cl := &kafka.Client{Addr: kafka.TCP(seeds...), Transport: &kafka.Transport{}}
	defer cl.Transport.(*kafka.Transport).CloseIdleConnections()
	tr2, err := NewFromClient(cl)
	if err != nil {
		t.Fatal(err)
	}
	defer tr2.Close()
	for _, p := range []int32{1, 1, 0, 0} {
		if _, err := tr2.Produce(brokertest.Ctx(t, 10*time.Second), topic, transport.Record{Key: []byte("same-key"), Value: []byte("y"), Partition: p}); err != nil {
			t.Fatal(err)
		}
	}

	ends, err := tr.EndOffsets(brokertest.Ctx(t, 10*time.Second), topic, []int32{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int32]int64{0: 2, 1: 2, 2: 3}; fmt.Sprint(ends) != fmt.Sprint(want) {
		t.Fatalf("end offsets %v, want %v", ends, want)
	}
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0, 1: 0, 2: 0}, transport.FetchOptions{})
	got := brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(ends))
	count := map[int32]int{}
	for _, r := range got.Records {
		count[r.Partition]++
		if r.Partition == 2 && string(r.Value) != "x" || r.Partition != 2 && string(r.Value) != "y" {
			t.Errorf("record %+v on the wrong partition", r)
		}
	}
	if count[0] != 2 || count[1] != 2 || count[2] != 3 {
		t.Fatalf("records per partition %v", count)
	}

	// A partition the topic does not have fails, retriable (metadata may
	// be stale after partitions were added).
	_, err = tr.Produce(brokertest.Ctx(t, 10*time.Second), topic, transport.Record{Key: []byte("k"), Value: []byte("v"), Partition: 7})
	if !errors.Is(err, transport.ErrUnknownPartition) || !transport.IsRetriable(err) {
		t.Fatalf("produce to partition 7 of 3: %v", err)
	}
}

func TestConcurrentProduce(t *testing.T) {
	tr := newT(t, brokertest.Start(t))
	topic := brokertest.NewTopic(t, tr, 1, nil)
	const workers, each = 64, 20
	ctx := brokertest.Ctx(t, 30*time.Second)
	offsets := make(chan int64, workers*each)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			last := int64(-1)
			for i := range each {
				off, err := tr.Produce(ctx, topic, transport.Record{Key: fmt.Appendf(nil, "w%d", w), Value: fmt.Appendf(nil, "%d", i)})
				if err != nil {
					t.Error(err)
					return
				}
				if off <= last {
					t.Errorf("worker %d: offset %d after %d", w, off, last)
				}
				last = off
				offsets <- off
			}
		})
	}
	wg.Wait()
	close(offsets)
	t.Logf("%d records from %d goroutines in %v", workers*each, workers, time.Since(start))
	var all []int64
	for o := range offsets {
		all = append(all, o)
	}
	slices.Sort(all)
	for i, o := range all {
		if o != int64(i) {
			t.Fatalf("offsets not 0..%d: position %d has %d", len(all)-1, i, o)
		}
	}
}

func TestCompactionMovesLogStart(t *testing.T) {
	c, seeds := brokertest.StartCluster(t)
	tr := newT(t, seeds)
	topic := brokertest.NewTopic(t, tr, 1, map[string]string{"cleanup.policy": "compact"})
	for _, kv := range [][2]string{{"a", "1"}, {"a", "2"}, {"b", "1"}, {"a", "3"}, {"c", "1"}} {
		brokertest.Produce(t, tr, topic, transport.Record{Key: []byte(kv[0]), Value: []byte(kv[1])})
	}
	c.Compact()
	ctx := brokertest.Ctx(t, 10*time.Second)
	starts, err := tr.StartOffsets(ctx, topic, []int32{0})
	if err != nil {
		t.Fatal(err)
	}
	ends, err := tr.EndOffsets(ctx, topic, []int32{0})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after compaction: start %d end %d", starts[0], ends[0])
	if starts[0] == 0 || ends[0] != 5 {
		t.Fatalf("kfake compaction: start %d end %d; expected the log start to move", starts[0], ends[0])
	}
	// From 0 (below the log start): the position resets to the start and
	// reaches the end; superseded records are gone, gaps are skipped.
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
	got := brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(ends))
	var kv []string
	for _, r := range got.Records {
		kv = append(kv, fmt.Sprintf("%d:%s=%s", r.Offset, r.Key, r.Value))
	}
	if want := "[2:b=1 3:a=3 4:c=1]"; fmt.Sprint(kv) != want {
		t.Fatalf("records %v, want %s", kv, want)
	}
}

func TestPositionBelowStartWithNothingAfter(t *testing.T) {
	seeds := brokertest.Start(t)
	tr := newT(t, seeds)
	topic := brokertest.NewTopic(t, tr, 1, nil)
	for i := range 3 {
		brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: fmt.Appendf(nil, "%d", i)})
	}
	adm := kadm.NewClient(kgoClient(t, seeds))
	ctx := brokertest.Ctx(t, 10*time.Second)
	os := kadm.Offsets{}
	os.Add(kadm.Offset{Topic: topic, Partition: 0, At: 3})
	resps, err := adm.DeleteRecords(ctx, os)
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		t.Fatalf("DeleteRecords: %v", err)
	}
	// Every record is gone: the log start is 3, the end 3. A reader at 0
	// must be told it is at 3 although no record follows (else a barrier
	// or catch-up would wait for a record that never comes).
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
	got := brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(map[int32]int64{0: 3}))
	if len(got.Records) != 0 || got.Next[0] != 3 {
		t.Fatalf("records %v next %v", got.Records, got.Next)
	}
}

func TestTransactions(t *testing.T) {
	seeds := brokertest.Start(t)
	tr := newT(t, seeds)
	topic := brokertest.NewTopic(t, tr, 1, nil)
	txn, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.TransactionalID(brokertest.Topic(t)),
		kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	ctx := brokertest.Ctx(t, 20*time.Second)
	runTxn := func(commit bool, vals ...string) {
		t.Helper()
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if err := txn.ProduceSync(ctx, &kgo.Record{Key: []byte(v), Value: []byte(v)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := txn.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	runTxn(true, "c1", "c2", "c3")                                                               // 0..2, commit marker 3
	runTxn(false, "a1", "a2")                                                                    // 4..5, abort marker 6
	brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("plain"), Value: []byte("p")}) // 7
	runTxn(true, "c4")                                                                           // 8, marker 9

	values := func(c *brokertest.Collected) []string {
		var vs []string
		for _, r := range c.Records {
			vs = append(vs, string(r.Value))
		}
		return vs
	}

	t.Run("read uncommitted", func(t *testing.T) {
		ends, err := tr.EndOffsets(ctx, topic, []int32{0})
		if err != nil {
			t.Fatal(err)
		}
		if ends[0] != 10 {
			t.Fatalf("end offset %d, want 10", ends[0])
		}
		f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		got := brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(ends))
		if want := "[c1 c2 c3 a1 a2 p c4]"; fmt.Sprint(values(got)) != want {
			t.Fatalf("values %v, want %s (no control records)", values(got), want)
		}
		if got.Next[0] != 10 {
			t.Fatalf("next %d, want 10 (past the last commit marker)", got.Next[0])
		}
	})

	t.Run("read committed", func(t *testing.T) {
		rc := newT(t, seeds, WithReadCommitted())
		if !rc.ReadCommitted() {
			t.Fatal("ReadCommitted() false")
		}
		ends, err := rc.EndOffsets(ctx, topic, []int32{0})
		if err != nil {
			t.Fatal(err)
		}
		f := brokertest.NewFetcher(t, rc, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		got := brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(ends))
		if want := "[c1 c2 c3 p c4]"; fmt.Sprint(values(got)) != want {
			t.Fatalf("values %v, want %s", values(got), want)
		}

		// An open transaction: the last stable offset stays before it,
		// the high watermark does not.
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := txn.ProduceSync(ctx, &kgo.Record{Key: []byte("open"), Value: []byte("open")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		lso, err := rc.EndOffsets(ctx, topic, []int32{0})
		if err != nil {
			t.Fatal(err)
		}
		hw, err := tr.EndOffsets(ctx, topic, []int32{0})
		if err != nil {
			t.Fatal(err)
		}
		if lso[0] != 10 || hw[0] != 11 {
			t.Fatalf("with an open transaction: read-committed end %d (want 10), read-uncommitted end %d (want 11)", lso[0], hw[0])
		}
		if err := txn.EndTransaction(ctx, kgo.TryAbort); err != nil {
			t.Fatal(err)
		}
		ends, err = rc.EndOffsets(ctx, topic, []int32{0})
		if err != nil {
			t.Fatal(err)
		}
		more := brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(ends))
		if len(more.Records) != 0 || more.Next[0] != 12 {
			t.Fatalf("after abort: records %v next %v, want none and 12", values(more), more.Next)
		}
	})
}

// TestEndOffsetsDuringLongPoll checks X2/B4: EndOffsets is not delayed by an
// in-flight long-poll fetch of the same transport.
func TestEndOffsetsDuringLongPoll(t *testing.T) {
	c, seeds := brokertest.StartCluster(t)
	tr := newT(t, seeds)
	topic := brokertest.NewTopic(t, tr, 1, nil)
	brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})

	// Count fetches that reach the broker for the topic.
	seen := brokertest.Fail(t, c, kfake.Fault{Keys: []kmsg.Key{kmsg.Fetch}, Count: -1, Observe: true})

	const longPoll = 2 * time.Second
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 1}, transport.FetchOptions{MaxWait: longPoll})
	ctx := brokertest.Ctx(t, 20*time.Second)
	pollDone := make(chan error, 1)
	go func() {
		_, err := f.Poll(ctx)
		pollDone <- err
	}()
	// Wait until the long poll is parked at the broker.
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := seen.Wait(wctx, 1); err != nil {
		t.Fatalf("no fetch reached the broker: %v", err)
	}

	var worst time.Duration
	for range 5 {
		start := time.Now()
		if _, err := tr.EndOffsets(ctx, topic, []int32{0}); err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(start))
	}
	t.Logf("EndOffsets during a %v long poll on the same kafka.Transport: worst of 5 = %v", longPoll, worst)
	if worst > longPoll/4 {
		t.Fatalf("EndOffsets waited behind the long poll: %v", worst)
	}
	if err := <-pollDone; err != nil {
		t.Fatal(err)
	}
}

func TestAssignMovesAndAdds(t *testing.T) {
	tr := newT(t, brokertest.Start(t))
	topic := brokertest.NewTopic(t, tr, 1, nil)
	for i := range 5 {
		brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: fmt.Appendf(nil, "%d", i)})
	}
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
	brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(map[int32]int64{0: 5}))

	// Rewind.
	if err := f.Assign(map[int32]int64{0: 2}); err != nil {
		t.Fatal(err)
	}
	got := brokertest.PollUntil(t, f, 10*time.Second, func(c *brokertest.Collected) bool { return len(c.Records) >= 3 })
	if got.Records[0].Offset != 2 || len(got.Records) != 3 {
		t.Fatalf("after rewind to 2: %d records from offset %d", len(got.Records), got.Records[0].Offset)
	}

	// Grow the topic and add the new partition.
	ctx := brokertest.Ctx(t, 10*time.Second)
	if err := tr.CreatePartitions(ctx, topic, 2); err != nil {
		t.Fatal(err)
	}
	if err := tr.CreatePartitions(ctx, topic, 2); err != nil {
		t.Fatalf("CreatePartitions to the current count: %v", err)
	}
	ps, err := tr.Partitions(ctx, topic)
	if err != nil || len(ps) != 2 {
		t.Fatalf("partitions %v %v", ps, err)
	}
	if err := f.Assign(map[int32]int64{1: 0}); err != nil {
		t.Fatal(err)
	}
	var off int64
	for { // the producer's metadata may lag behind the new partition
		off, err = tr.Produce(ctx, topic, transport.Record{Key: []byte("new"), Value: []byte("p1"), Partition: 1})
		if err == nil || !transport.IsRetriable(err) {
			break
		}
	}
	if err != nil || off != 0 {
		t.Fatalf("produce to the new partition: offset %d err %v", off, err)
	}
	got = brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(map[int32]int64{1: 1}))
	if len(got.Records) != 1 || got.Records[0].Partition != 1 {
		t.Fatalf("new partition records %v", got.Records)
	}
}

func TestErrors(t *testing.T) {
	c, seeds := brokertest.StartCluster(t)
	tr := newT(t, seeds)
	ctx := brokertest.Ctx(t, 30*time.Second)

	isKerr := func(t *testing.T, err error, want kafka.Error) {
		t.Helper()
		var ke kafka.Error
		if !errors.As(err, &ke) || ke != want {
			t.Errorf("errors.As(kafka.Error) = %v, want %v (err %v)", ke, want, err)
		}
	}

	t.Run("unknown topic", func(t *testing.T) {
		missing := brokertest.Topic(t)
		_, err := tr.Partitions(ctx, missing)
		if !errors.Is(err, transport.ErrUnknownTopic) || !transport.IsFatal(err) {
			t.Errorf("Partitions: %v", err)
		}
		isKerr(t, err, kafka.UnknownTopicOrPartition)
		_, err = tr.EndOffsets(ctx, missing, []int32{0})
		if !errors.Is(err, transport.ErrUnknownTopic) {
			t.Errorf("EndOffsets: %v", err)
		}
		_, err = tr.StartOffsets(ctx, missing, []int32{0})
		if !errors.Is(err, transport.ErrUnknownTopic) {
			t.Errorf("StartOffsets: %v", err)
		}
		_, err = tr.DescribeTopicConfig(ctx, missing)
		if !errors.Is(err, transport.ErrUnknownTopic) {
			t.Errorf("DescribeTopicConfig: %v", err)
		}
	})

	topic := brokertest.NewTopic(t, tr, 1, nil)
	brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})

	t.Run("topic exists", func(t *testing.T) {
		err := tr.CreateTopic(ctx, transport.TopicSpec{Name: topic})
		if !errors.Is(err, transport.ErrTopicExists) {
			t.Fatalf("CreateTopic twice: %v", err)
		}
		isKerr(t, err, kafka.TopicAlreadyExists)
	})

	t.Run("fetch not authorized", func(t *testing.T) {
		h := brokertest.FailNext(t, c, kmsg.Fetch, topic, -1, kerr.TopicAuthorizationFailed)
		defer h.Remove()
		f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		pctx := brokertest.Ctx(t, 10*time.Second)
		for {
			b, err := f.Poll(pctx)
			if err != nil {
				if !errors.Is(err, transport.ErrAuthorization) || !transport.IsFatal(err) {
					t.Fatalf("Poll: %v", err)
				}
				isKerr(t, err, kafka.TopicAuthorizationFailed)
				return
			}
			if len(b.Records) > 0 {
				t.Fatalf("records despite the fault: %v", b.Records)
			}
		}
	})

	t.Run("list offsets not authorized", func(t *testing.T) {
		brokertest.FailNext(t, c, kmsg.ListOffsets, topic, 1, kerr.TopicAuthorizationFailed)
		_, err := tr.EndOffsets(ctx, topic, []int32{0})
		if !errors.Is(err, transport.ErrAuthorization) || !transport.IsFatal(err) {
			t.Fatalf("EndOffsets: %v", err)
		}
		isKerr(t, err, kafka.TopicAuthorizationFailed)
		if _, err := tr.EndOffsets(ctx, topic, []int32{0}); err != nil {
			t.Fatalf("after the fault: %v", err)
		}
	})

	t.Run("not leader is reported retriable", func(t *testing.T) {
		// kafka-go does not retry: the core does.
		brokertest.FailNext(t, c, kmsg.ListOffsets, topic, 1, kerr.NotLeaderForPartition)
		_, err := tr.EndOffsets(ctx, topic, []int32{0})
		if !errors.Is(err, transport.ErrNotLeader) || !transport.IsRetriable(err) {
			t.Fatalf("EndOffsets: %v", err)
		}
		isKerr(t, err, kafka.NotLeaderForPartition)
		if _, err := tr.EndOffsets(ctx, topic, []int32{0}); err != nil {
			t.Fatalf("after the fault: %v", err)
		}
	})

	t.Run("produce not authorized", func(t *testing.T) {
		brokertest.FailNext(t, c, kmsg.Produce, topic, 1, kerr.TopicAuthorizationFailed)
		_, err := tr.Produce(ctx, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
		if !errors.Is(err, transport.ErrAuthorization) || !transport.IsFatal(err) {
			t.Fatalf("Produce: %v", err)
		}
		isKerr(t, err, kafka.TopicAuthorizationFailed)
	})

	t.Run("context errors stay context errors", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := tr.EndOffsets(cctx, topic, []int32{0}); !errors.Is(err, context.Canceled) {
			t.Errorf("EndOffsets: %v", err)
		}
		if _, err := tr.Produce(cctx, topic, transport.Record{Key: []byte("k")}); !errors.Is(err, context.Canceled) {
			t.Errorf("Produce: %v", err)
		}
	})

	t.Run("closed", func(t *testing.T) {
		tr2 := newT(t, seeds)
		f := brokertest.NewFetcher(t, tr2, topic, map[int32]int64{0: 0}, transport.FetchOptions{})
		_ = tr2.Close()
		if _, err := f.Poll(ctx); !errors.Is(err, transport.ErrClosed) {
			t.Errorf("Poll after transport Close: %v", err)
		}
		if _, err := tr2.Produce(ctx, topic, transport.Record{Key: []byte("k")}); !errors.Is(err, transport.ErrClosed) {
			t.Errorf("Produce after Close: %v", err)
		}
		if _, err := tr2.EndOffsets(ctx, topic, []int32{0}); !errors.Is(err, transport.ErrClosed) {
			t.Errorf("EndOffsets after Close: %v", err)
		}
	})
}

func TestPollHonoursContext(t *testing.T) {
	tr := newT(t, brokertest.Start(t))
	topic := brokertest.NewTopic(t, tr, 1, nil)
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 10 * time.Second})
	// A deadline during the long poll.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := f.Poll(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Poll: %v, want context.DeadlineExceeded", err)
		}
		t.Logf("Poll with MaxWait 10s and a 300ms deadline returned after %v", time.Since(start))
	case <-time.After(3 * time.Second):
		t.Fatal("Poll did not return within 3s of a 300ms deadline (MaxWait 10s)")
	}
	// A cancel while polling.
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() {
		_, err := f.Poll(ctx2)
		done <- err
	}()
	cancel2()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Poll: %v, want context.Canceled", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Poll did not return within 3s of cancel (MaxWait 10s)")
	}

	// An idle poll returns empty after MaxWait.
	f2 := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 200 * time.Millisecond})
	start = time.Now()
	b, err := f2.Poll(brokertest.Ctx(t, 10*time.Second))
	if err != nil || len(b.Records) != 0 {
		t.Fatalf("idle Poll: %v %v", b, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("idle Poll took %v with MaxWait 200ms", d)
	}
}

func TestCloseKeepsCallerClient(t *testing.T) {
	seeds := brokertest.Start(t)
	own := &kafka.Transport{}
	defer own.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(seeds...), Transport: own}
	tr, err := NewFromClient(cl)
	if err != nil {
		t.Fatal(err)
	}
	var got *kafka.Client
	if !tr.As(&got) || got != cl {
		t.Fatal("As(**kafka.Client) does not give the caller's client")
	}
	if tr.As(new(int)) {
		t.Fatal("As(*int) reported true")
	}
	topic := brokertest.NewTopic(t, tr, 1, nil)
	brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{})
	brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(map[int32]int64{0: 1}))
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if cl.Transport != own || cl.Addr.String() != kafka.TCP(seeds...).String() {
		t.Fatal("the caller's client was changed")
	}
	ctx := brokertest.Ctx(t, 10*time.Second)
	if _, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}}); err != nil {
		t.Fatalf("caller's client after Close: %v", err)
	}
	resp, err := cl.Produce(ctx, &kafka.ProduceRequest{Topic: topic, Partition: 0, RequiredAcks: kafka.RequireAll,
		Records: kafka.NewRecordReader(kafka.Record{Value: kafka.NewBytes([]byte("still open"))})})
	if err == nil {
		err = resp.Error
	}
	if err != nil {
		t.Fatalf("caller's client produce after Close: %v", err)
	}
}

func TestNoGoroutineLeaks(t *testing.T) {
	seeds := brokertest.Start(t)
	base := runtime.NumGoroutine()
	func() {
		tr, err := New(seeds)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		topic := brokertest.NewTopic(t, tr, 2, nil)
		brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
		f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0, 1: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(map[int32]int64{0: 1}))
		// A second fetcher left open: Transport.Close must close it.
		f2, err := tr.NewFetcher(brokertest.Ctx(t, 10*time.Second), topic, map[int32]int64{0: 0}, transport.FetchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f2.Poll(brokertest.Ctx(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}()
	brokertest.NoLeaks(t, base)
}

func TestWrongSASLPassword(t *testing.T) {
	_, seeds := brokertest.StartCluster(t, kfake.EnableSASL(), kfake.Superuser("PLAIN", "user", "pass"))
	good := newT(t, seeds, WithTransport(&kafka.Transport{SASL: plain.Mechanism{Username: "user", Password: "pass"}}))
	topic := brokertest.NewTopic(t, good, 1, nil)
	brokertest.Produce(t, good, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})

	bad := newT(t, seeds, WithDialer(&kafka.Dialer{SASLMechanism: plain.Mechanism{Username: "user", Password: "wrong"}}))
	ctx := brokertest.Ctx(t, 10*time.Second)
	start := time.Now()
	_, err := bad.Partitions(ctx, topic)
	if ctx.Err() != nil {
		t.Fatalf("no answer within the deadline: %v", err)
	}
	if !errors.Is(err, transport.ErrAuthentication) || !transport.IsFatal(err) {
		t.Fatalf("wrong password: %v", err)
	}
	t.Logf("wrong password failed in %v: %v", time.Since(start), err)
	if _, err := bad.Produce(ctx, topic, transport.Record{Key: []byte("k"), Value: []byte("v")}); !errors.Is(err, transport.ErrAuthentication) {
		t.Fatalf("produce with a wrong password: %v", err)
	}
	if _, err := bad.EndOffsets(ctx, topic, []int32{0}); !errors.Is(err, transport.ErrAuthentication) {
		t.Fatalf("end offsets with a wrong password: %v", err)
	}

	// A table over the bad transport fails Open clearly within its
	// deadline, without hanging.
	octx := brokertest.Ctx(t, 10*time.Second)
	start = time.Now()
	tbl, err := ktables.Open(octx, bad, topic, ktables.Bytes(), ktables.WithoutEnsureTopic())
	if err == nil {
		tbl.Close()
		t.Fatal("Open with a wrong password succeeded")
	}
	if octx.Err() != nil || !errors.Is(err, transport.ErrAuthentication) {
		t.Fatalf("Open with a wrong password after %v: %v", time.Since(start), err)
	}
	t.Logf("Open with a wrong password failed in %v: %v", time.Since(start), err)
}

func TestTopicConfig(t *testing.T) {
	tr := newT(t, brokertest.Start(t))
	topic := brokertest.NewTopic(t, tr, 1, map[string]string{"cleanup.policy": "compact", "segment.ms": "600000"})
	ctx := brokertest.Ctx(t, 10*time.Second)
	get := func() map[string]transport.ConfigEntry {
		t.Helper()
		es, err := tr.DescribeTopicConfig(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		m := make(map[string]transport.ConfigEntry, len(es))
		for _, e := range es {
			m[e.Name] = e
		}
		return m
	}
	m := get()
	if e := m["cleanup.policy"]; e.Value != "compact" || e.Source != transport.SourceTopic {
		t.Fatalf("cleanup.policy = %+v", e)
	}
	if err := tr.AlterTopicConfig(ctx, topic, map[string]string{"cleanup.policy": "compact,delete", "retention.ms": "86400000"}); err != nil {
		t.Fatal(err)
	}
	m = get()
	for k, v := range map[string]string{"cleanup.policy": "compact,delete", "retention.ms": "86400000", "segment.ms": "600000"} {
		if e := m[k]; e.Value != v || e.Source != transport.SourceTopic {
			t.Errorf("%s = %+v, want %q from the topic", k, e, v)
		}
	}
	for _, e := range m {
		if e.Source == transport.SourceTopic {
			continue
		}
		if e.Source == transport.SourceUnknown {
			t.Errorf("%s has an unknown source", e.Name)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err       error
		kind      error
		retriable bool
	}{
		{kafka.TopicAuthorizationFailed, transport.ErrAuthorization, false},
		{kafka.ClusterAuthorizationFailed, transport.ErrAuthorization, false},
		{kafka.SASLAuthenticationFailed, transport.ErrAuthentication, false},
		{kafka.UnknownTopicOrPartition, transport.ErrUnknownTopic, false},
		{kafka.NotLeaderForPartition, transport.ErrNotLeader, true},
		{kafka.LeaderNotAvailable, transport.ErrNotLeader, true},
		{kafka.RequestTimedOut, transport.ErrTimeout, true},
		{kafka.TopicAlreadyExists, transport.ErrTopicExists, false},
		{kafka.InvalidConfiguration, transport.ErrInvalidConfig, false},
		{kafka.MessageSizeTooLarge, transport.ErrRecordTooLarge, false},
		{kafka.RecordListTooLarge, transport.ErrRecordTooLarge, false},
		{kafka.GroupLoadInProgress, nil, true},
		{kafka.Unknown, nil, false},
		{fmt.Errorf("kafka.(*Client).Produce: %w", kafka.TopicAuthorizationFailed), transport.ErrAuthorization, false},
		{fmt.Errorf("read: %w", io.EOF), transport.ErrBrokerUnavailable, true},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, transport.ErrBrokerUnavailable, true},
	} {
		err := wrap(context.Background(), "op", "t", c.err)
		if c.kind != nil && !errors.Is(err, c.kind) {
			t.Errorf("%v: %v does not match %v", c.err, err, c.kind)
		}
		if transport.IsRetriable(err) != c.retriable {
			t.Errorf("%v: retriable %v, want %v", c.err, transport.IsRetriable(err), c.retriable)
		}
		if !errors.Is(err, c.err) {
			t.Errorf("%v: native error not reachable from %v", c.err, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := wrap(ctx, "op", "t", kafka.RequestTimedOut); err != context.Canceled {
		t.Errorf("with a done ctx: %v, want context.Canceled", err)
	}
}

func TestFetchErrors(t *testing.T) {
	c, seeds := brokertest.StartCluster(t)
	tr := newT(t, seeds)
	ctx := brokertest.Ctx(t, 30*time.Second)
	pollErr := func(t *testing.T, f transport.Fetcher) error {
		t.Helper()
		pctx := brokertest.Ctx(t, 10*time.Second)
		for {
			b, err := f.Poll(pctx)
			if err != nil {
				return err
			}
			if len(b.Records) > 0 {
				t.Fatalf("records despite the fault: %v", b.Records)
			}
		}
	}

	t.Run("not leader is reported retriable", func(t *testing.T) {
		topic := brokertest.NewTopic(t, tr, 1, nil)
		brokertest.FailNext(t, c, kmsg.Fetch, topic, 1, kerr.NotLeaderForPartition)
		f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		err := pollErr(t, f)
		if !errors.Is(err, transport.ErrNotLeader) || !transport.IsRetriable(err) {
			t.Fatalf("Poll: %v", err)
		}
	})

	t.Run("unknown topic of an existing topic is retriable", func(t *testing.T) {
		// What real Kafka answers right after a create, until metadata
		// has propagated.
		topic := brokertest.NewTopic(t, tr, 1, nil)
		brokertest.FailNext(t, c, kmsg.Fetch, topic, 1, kerr.UnknownTopicOrPartition)
		f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		err := pollErr(t, f)
		if !errors.Is(err, transport.ErrUnknownTopic) || !transport.IsRetriable(err) {
			t.Fatalf("Poll: %v", err)
		}
		var ke kafka.Error
		if !errors.As(err, &ke) {
			t.Fatalf("native error not reachable: %v", err)
		}
	})

	t.Run("deleted topic is fatal", func(t *testing.T) {
		topic := brokertest.NewTopic(t, tr, 1, nil)
		brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
		f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(map[int32]int64{0: 1}))
		adm := kadm.NewClient(kgoClient(t, seeds))
		if _, err := adm.DeleteTopic(ctx, topic); err != nil {
			t.Fatal(err)
		}
		err := pollErr(t, f)
		if !errors.Is(err, transport.ErrUnknownTopic) || !transport.IsFatal(err) {
			t.Fatalf("Poll after delete: %v", err)
		}
	})
}

func TestClientOptions(t *testing.T) {
	seeds := brokertest.Start(t)
	for _, c := range []struct {
		name string
		err  func() error
	}{
		{"no seeds", func() error { _, err := New(nil); return err }},
		{"transport and dialer", func() error {
			_, err := New(seeds, WithTransport(&kafka.Transport{}), WithDialer(&kafka.Dialer{}))
			return err
		}},
		{"bad acks", func() error { _, err := New(seeds, WithRequiredAcks(7)); return err }},
		{"bad timeout", func() error { _, err := New(seeds, WithRequestTimeout(0)); return err }},
		{"nil client", func() error { _, err := NewFromClient(nil); return err }},
		{"client without address", func() error { _, err := NewFromClient(&kafka.Client{}); return err }},
		{"client and dialer", func() error {
			_, err := NewFromClient(&kafka.Client{Addr: kafka.TCP(seeds...)}, WithDialer(&kafka.Dialer{}))
			return err
		}},
	} {
		if err := c.err(); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", c.name, err)
		}
	}

	// Options reach the wire: client id and compression from a Dialer,
	// acks=1 and read committed.
	tr := newT(t, seeds, WithDialer(&kafka.Dialer{ClientID: "ktables-test", Timeout: 5 * time.Second}),
		WithCompression(kafka.Zstd), WithRequiredAcks(kafka.RequireOne), WithReadCommitted())
	if !tr.ReadCommitted() {
		t.Fatal("ReadCommitted() false")
	}
	topic := brokertest.NewTopic(t, tr, 1, nil)
	for i := range 3 {
		brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: bytes.Repeat([]byte("z"), 1000*i)})
	}
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
	got := brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(map[int32]int64{0: 3}))
	for i, r := range got.Records {
		if len(r.Value) != 1000*i || (r.Value == nil) {
			t.Fatalf("record %d: %d bytes (nil %v)", i, len(r.Value), r.Value == nil)
		}
	}

	// acks=none: Produce returns without an offset.
	trn := newT(t, seeds, WithRequiredAcks(kafka.RequireNone))
	if off := brokertest.Produce(t, trn, topic, transport.Record{Key: []byte("k"), Value: []byte("v")}); off != -1 {
		t.Fatalf("acks=none offset %d, want -1", off)
	}
}

func TestFetcherStartsEmpty(t *testing.T) {
	tr := newT(t, brokertest.Start(t))
	topic := brokertest.NewTopic(t, tr, 2, nil)
	brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v"), Partition: 1})
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{}, transport.FetchOptions{MaxWait: 50 * time.Millisecond})
	b, err := f.Poll(brokertest.Ctx(t, 10*time.Second))
	if err != nil || len(b.Records) != 0 {
		t.Fatalf("Poll with no partitions: %v %v", b, err)
	}
	if err := f.Assign(map[int32]int64{1: 0}); err != nil {
		t.Fatal(err)
	}
	got := brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(map[int32]int64{1: 1}))
	if len(got.Records) != 1 || got.Records[0].Partition != 1 {
		t.Fatalf("records %v", got.Records)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Poll(brokertest.Ctx(t, time.Second)); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("Poll after Close: %v", err)
	}
	if err := f.Assign(map[int32]int64{0: 0}); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("Assign after Close: %v", err)
	}
}

// kgoClient is a franz-go client for what kafka-go cannot do in tests
// (transactions, DeleteRecords, DeleteTopics through kadm).
func kgoClient(t *testing.T, seeds []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}
