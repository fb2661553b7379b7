package saramatransport

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
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables/internal/brokertest"
	"github.com/ktables/ktables/transport"
)

func TestRoundTrip(t *testing.T) {
	tr := newT(t, brokertest.Start(t), nil)
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
			rh, wh := r.Headers[j], w.Headers[j]
			if rh.Key != wh.Key || !bytes.Equal(rh.Value, wh.Value) || (rh.Value == nil) != (wh.Value == nil) {
				t.Errorf("record %d header %d: %q=%q (nil %v), want %q=%q (nil %v)", i, j, rh.Key, rh.Value, rh.Value == nil, wh.Key, wh.Value, wh.Value == nil)
			}
		}
		if !w.Timestamp.IsZero() && !r.Timestamp.Equal(w.Timestamp) {
			t.Errorf("record %d: timestamp %v, want %v", i, r.Timestamp, w.Timestamp)
		}
		if w.Timestamp.IsZero() && r.Timestamp.IsZero() {
			t.Errorf("record %d: zero timestamp; the producer should stamp produce time", i)
		}
	}

	// The same bytes read by franz-go: what sarama wrote over the wire
	// keeps nil and empty apart for any client.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokertest.Start(t)...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var krs []*kgo.Record
	ctx := brokertest.Ctx(t, 10*time.Second)
	for len(krs) < len(in) && ctx.Err() == nil {
		krs = append(krs, cl.PollFetches(ctx).Records()...)
	}
	for i, kr := range krs {
		if (kr.Value == nil) != (in[i].Value == nil) || (kr.Key == nil) != (in[i].Key == nil) {
			t.Errorf("franz-go read record %d as key nil %v value nil %v", i, kr.Key == nil, kr.Value == nil)
		}
	}
}

// TestRecordsNextOffsetField pins the sarama internal the fetcher reads to
// move past batches without records (see recordsNextOffset): it must exist
// and be the offset after the last batch of a block.
func TestRecordsNextOffsetField(t *testing.T) {
	tr := newT(t, brokertest.Start(t), nil)
	topic := brokertest.NewTopic(t, tr, 1, nil)
	for i := range 3 {
		brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: fmt.Appendf(nil, "%d", i)})
	}
	var c sarama.Client
	if !tr.As(&c) {
		t.Fatal("As(*sarama.Client) failed")
	}
	leader, err := c.Leader(topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := sarama.NewBroker(leader.Addr())
	if err := b.Open(tr.cfg); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	req := &sarama.FetchRequest{Version: 11, MaxWaitTime: 100, MinBytes: 1, MaxBytes: 1 << 20, SessionEpoch: -1}
	req.AddBlock(topic, 0, 0, 1<<20, -1)
	resp, err := b.Fetch(req)
	if err != nil {
		t.Fatal(err)
	}
	blk := resp.GetBlock(topic, 0)
	n, ok := recordsNextOffset(blk)
	if !ok || n != 3 {
		t.Fatalf("recordsNextOffset = %d, %v; want 3, true", n, ok)
	}
}

func TestPartitionHonoured(t *testing.T) {
	seeds := brokertest.Start(t)
	tr := newT(t, seeds, nil)
	topic := brokertest.NewTopic(t, tr, 3, nil)
	for i := range 3 {
		if off := brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("same-key"), Value: []byte("x"), Partition: 2}); off != int64(i) {
			t.Fatalf("offset %d, want %d", off, i)
		}
	}
	// A caller's client configured with sarama's default (FNV-1a hash)
	// partitioner: the transport's producer must still honour the
	// explicit partition.
	cfg := sarama.NewConfig()
	cfg.Producer.Partitioner = sarama.NewHashPartitioner
	cl, err := sarama.NewClient(seeds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tr2, err := NewFromClient(cl)
	if err != nil {
		t.Fatal(err)
	}
	defer tr2.Close()
	for _, p := range []int32{1, 1, 0} {
		if _, err := tr2.Produce(brokertest.Ctx(t, 10*time.Second), topic, transport.Record{Key: []byte("same-key"), Value: []byte("y"), Partition: p}); err != nil {
			t.Fatal(err)
		}
	}
	ends, err := tr.EndOffsets(brokertest.Ctx(t, 10*time.Second), topic, []int32{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int32]int64{0: 1, 1: 2, 2: 3}; fmt.Sprint(ends) != fmt.Sprint(want) {
		t.Fatalf("end offsets %v, want %v", ends, want)
	}
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0, 1: 0, 2: 0}, transport.FetchOptions{})
	got := brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(ends))
	for _, r := range got.Records {
		if r.Partition == 2 && string(r.Value) != "x" || r.Partition != 2 && string(r.Value) != "y" {
			t.Errorf("record %+v on the wrong partition", r)
		}
	}
	// A partition the topic does not have fails, retriable (metadata may
	// be stale after partitions were added).
	_, err = tr.Produce(brokertest.Ctx(t, 10*time.Second), topic, transport.Record{Key: []byte("k"), Value: []byte("v"), Partition: 7})
	if !errors.Is(err, transport.ErrUnknownPartition) || !transport.IsRetriable(err) {
		t.Fatalf("produce to partition 7 of 3: %v", err)
	}
}

// TestConcurrentProduce checks X4: 64 goroutines producing at once are
// pipelined into shared produce requests, not serialized one request per
// record.
func TestConcurrentProduce(t *testing.T) {
	c, seeds := brokertest.StartCluster(t)
	tr := newT(t, seeds, nil)
	topic := brokertest.NewTopic(t, tr, 1, nil)
	brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("warm"), Value: []byte("up")})
	reqs := brokertest.Fail(t, c, kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Count: -1, Observe: true})
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
	n := reqs.Hits()
	t.Logf("%d records from %d goroutines in %v, %d produce requests", workers*each, workers, time.Since(start), n)
	if n >= workers*each/4 {
		t.Errorf("%d produce requests for %d records: concurrent produces are not batched", n, workers*each)
	}
	var all []int64
	for o := range offsets {
		all = append(all, o)
	}
	slices.Sort(all)
	for i, o := range all {
		if o != int64(i)+1 {
			t.Fatalf("offsets not 1..%d: position %d has %d", len(all), i, o)
		}
	}
}

func TestCompactionMovesLogStart(t *testing.T) {
	c, seeds := brokertest.StartCluster(t)
	tr := newT(t, seeds, nil)
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
	if starts[0] == 0 || ends[0] != 5 {
		t.Fatalf("kfake compaction: start %d end %d; expected the log start to move", starts[0], ends[0])
	}
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
	tr := newT(t, brokertest.Start(t), nil)
	topic := brokertest.NewTopic(t, tr, 1, nil)
	for i := range 3 {
		brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: fmt.Appendf(nil, "%d", i)})
	}
	var adm sarama.ClusterAdmin
	if !tr.As(&adm) {
		t.Fatal("As(*sarama.ClusterAdmin) failed")
	}
	if err := adm.DeleteRecords(topic, map[int32]int64{0: 3}); err != nil {
		t.Fatalf("DeleteRecords: %v", err)
	}
	// Every record is gone: the log start is 3, the end 3. A reader at 0
	// must be told it is at 3 although no record follows.
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
	got := brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(map[int32]int64{0: 3}))
	if len(got.Records) != 0 || got.Next[0] != 3 {
		t.Fatalf("records %v next %v", got.Records, got.Next)
	}
}

func TestTransactions(t *testing.T) {
	seeds := brokertest.Start(t)
	uncommitted := sarama.NewConfig()
	uncommitted.Version = DefaultVersion
	tr := newT(t, seeds, uncommitted)
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
	runTxn(true, "c4")                                                                           // 8, marker 9 (trailing)

	values := func(c *brokertest.Collected) []string {
		var vs []string
		for _, r := range c.Records {
			vs = append(vs, string(r.Value))
		}
		return vs
	}

	t.Run("read uncommitted", func(t *testing.T) {
		if tr.ReadCommitted() {
			t.Fatal("ReadCommitted() true with sarama's default isolation")
		}
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
			t.Fatalf("next %d, want 10 (past the trailing commit marker)", got.Next[0])
		}
	})

	t.Run("read committed", func(t *testing.T) {
		rc := newT(t, seeds, nil)
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
		if got.Next[0] != 10 {
			t.Fatalf("next %d, want 10", got.Next[0])
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

// TestEndOffsetsDuringLongPoll checks X2/B4 and the sarama quirk of SPEC
// §12: EndOffsets is not delayed by an in-flight long-poll fetch of the same
// transport. On a shared *sarama.Broker it would be: sarama holds the
// broker's lock for the whole fetch, which the second measurement shows.
func TestEndOffsetsDuringLongPoll(t *testing.T) {
	c, seeds := brokertest.StartCluster(t)
	tr := newT(t, seeds, nil)
	topic := brokertest.NewTopic(t, tr, 1, nil)
	brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})

	seen := brokertest.Fail(t, c, kfake.Fault{Keys: []kmsg.Key{kmsg.Fetch}, Count: -1, Observe: true})
	const longPoll = 2 * time.Second
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 1}, transport.FetchOptions{MaxWait: longPoll})
	ctx := brokertest.Ctx(t, 20*time.Second)
	pollDone := make(chan error, 1)
	go func() {
		_, err := f.Poll(ctx)
		pollDone <- err
	}()
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
	t.Logf("EndOffsets during a %v long poll: worst of 5 = %v", longPoll, worst)
	if worst > longPoll/4 {
		t.Fatalf("EndOffsets waited behind the long poll: %v", worst)
	}
	if err := <-pollDone; err != nil {
		t.Fatal(err)
	}

	// The quirk itself: a ListOffsets on the connection carrying a long
	// poll waits for it.
	b := sarama.NewBroker(seeds[0])
	if err := b.Open(tr.cfg); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	go func() {
		req := &sarama.FetchRequest{Version: 11, MaxWaitTime: int32(longPoll / time.Millisecond), MinBytes: 1, MaxBytes: 1 << 20, SessionEpoch: -1}
		req.AddBlock(topic, 0, 1, 1<<20, -1)
		_, err := b.Fetch(req)
		pollDone <- err
	}()
	wctx2, cancel2 := context.WithTimeout(ctx, 5*time.Second)
	defer cancel2()
	if err := seen.Wait(wctx2, 2); err != nil { // the fetcher's, and this one
		t.Fatalf("no second fetch reached the broker: %v", err)
	}
	start := time.Now()
	req := &sarama.OffsetRequest{Version: 4}
	req.AddBlock(topic, 0, sarama.OffsetNewest, 1)
	if _, err := b.GetAvailableOffsets(req); err != nil {
		t.Fatal(err)
	}
	shared := time.Since(start)
	t.Logf("ListOffsets on the connection of an in-flight %v long poll: %v", longPoll, shared)
	if shared < longPoll/2 {
		t.Errorf("a ListOffsets behind a long poll on one *sarama.Broker took %v; sarama no longer serializes a connection's requests?", shared)
	}
	<-pollDone
}

func TestAssignMovesAndAdds(t *testing.T) {
	tr := newT(t, brokertest.Start(t), nil)
	topic := brokertest.NewTopic(t, tr, 1, nil)
	for i := range 5 {
		brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: fmt.Appendf(nil, "%d", i)})
	}
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
	brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(map[int32]int64{0: 5}))
	if err := f.Assign(map[int32]int64{0: 2}); err != nil {
		t.Fatal(err)
	}
	got := brokertest.PollUntil(t, f, 10*time.Second, func(c *brokertest.Collected) bool { return len(c.Records) >= 3 })
	if got.Records[0].Offset != 2 || len(got.Records) != 3 {
		t.Fatalf("after rewind to 2: %d records from offset %d", len(got.Records), got.Records[0].Offset)
	}
	ctx := brokertest.Ctx(t, 10*time.Second)
	if err := tr.CreatePartitions(ctx, topic, 2); err != nil {
		t.Fatal(err)
	}
	if err := tr.CreatePartitions(ctx, topic, 2); err != nil {
		t.Fatalf("CreatePartitions to the current count: %v", err)
	}
	if err := f.Assign(map[int32]int64{1: 0}); err != nil {
		t.Fatal(err)
	}
	var off int64
	var err error
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

func isKError(t *testing.T, err error, want sarama.KError) {
	t.Helper()
	var ke sarama.KError
	if !errors.As(err, &ke) || ke != want {
		t.Errorf("errors.As(sarama.KError) = %v, want %v (err %v)", ke, want, err)
	}
}

func TestErrors(t *testing.T) {
	c, seeds := brokertest.StartCluster(t)
	tr := newT(t, seeds, nil)
	ctx := brokertest.Ctx(t, 30*time.Second)

	t.Run("unknown topic", func(t *testing.T) {
		missing := brokertest.Topic(t)
		_, err := tr.Partitions(ctx, missing)
		if !errors.Is(err, transport.ErrUnknownTopic) || !transport.IsFatal(err) {
			t.Errorf("Partitions: %v", err)
		}
		isKError(t, err, sarama.ErrUnknownTopicOrPartition)
		if _, err := tr.EndOffsets(ctx, missing, []int32{0}); !errors.Is(err, transport.ErrUnknownTopic) {
			t.Errorf("EndOffsets: %v", err)
		}
		if _, err := tr.DescribeTopicConfig(ctx, missing); !errors.Is(err, transport.ErrUnknownTopic) {
			t.Errorf("DescribeTopicConfig: %v", err)
		}
	})

	topic := brokertest.NewTopic(t, tr, 1, nil)
	brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})

	t.Run("topic exists", func(t *testing.T) {
		err := tr.CreateTopic(ctx, transport.TopicSpec{Name: topic})
		if !errors.Is(err, transport.ErrTopicExists) || !transport.IsFatal(err) {
			t.Fatalf("CreateTopic twice: %v", err)
		}
		isKError(t, err, sarama.ErrTopicAlreadyExists)
		var te *sarama.TopicError
		if !errors.As(err, &te) {
			t.Errorf("*sarama.TopicError not reachable from %v", err)
		}
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
				isKError(t, err, sarama.ErrTopicAuthorizationFailed)
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
		isKError(t, err, sarama.ErrTopicAuthorizationFailed)
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
		isKError(t, err, sarama.ErrTopicAuthorizationFailed)
	})

	t.Run("not leader is retriable", func(t *testing.T) {
		brokertest.FailNext(t, c, kmsg.ListOffsets, topic, 1, kerr.NotLeaderForPartition)
		_, err := tr.EndOffsets(ctx, topic, []int32{0})
		if !errors.Is(err, transport.ErrNotLeader) || !transport.IsRetriable(err) {
			t.Fatalf("EndOffsets: %v", err)
		}
		if _, err := tr.EndOffsets(ctx, topic, []int32{0}); err != nil {
			t.Fatalf("after the fault: %v", err)
		}
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
		tr2 := newT(t, seeds, nil)
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

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err       error
		kind      error
		retriable bool
	}{
		{sarama.ErrTopicAuthorizationFailed, transport.ErrAuthorization, false},
		{sarama.ErrClusterAuthorizationFailed, transport.ErrAuthorization, false},
		{sarama.ErrSASLAuthenticationFailed, transport.ErrAuthentication, false},
		{sarama.Wrap(sarama.ErrOutOfBrokers, sarama.ErrSASLAuthenticationFailed), transport.ErrAuthentication, false},
		{sarama.ErrUnknownTopicOrPartition, transport.ErrUnknownTopic, false},
		{sarama.ErrNotLeaderForPartition, transport.ErrNotLeader, true},
		{sarama.ErrLeaderNotAvailable, transport.ErrNotLeader, true},
		{sarama.ErrRequestTimedOut, transport.ErrTimeout, true},
		{&sarama.TopicError{Err: sarama.ErrTopicAlreadyExists}, transport.ErrTopicExists, false},
		{sarama.ErrInvalidConfig, transport.ErrInvalidConfig, false},
		{sarama.ErrMessageSizeTooLarge, transport.ErrRecordTooLarge, false},
		{sarama.ErrOutOfBrokers, transport.ErrBrokerUnavailable, true},
		{sarama.ErrNotConnected, transport.ErrBrokerUnavailable, true},
		{sarama.Wrap(sarama.ErrOutOfBrokers, io.EOF), transport.ErrBrokerUnavailable, true},
		{fmt.Errorf("read: %w", io.EOF), transport.ErrBrokerUnavailable, true},
		{sarama.ErrInvalidPartition, transport.ErrUnknownPartition, true},
		{sarama.ErrClosedClient, transport.ErrClosed, false},
		{sarama.ErrOffsetsLoadInProgress, nil, true},
		{sarama.ErrUnknown, nil, false},
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
	if err := wrap(ctx, "op", "t", sarama.ErrRequestTimedOut); err != context.Canceled {
		t.Errorf("with a done ctx: %v, want context.Canceled", err)
	}
}

func TestPollHonoursContext(t *testing.T) {
	tr := newT(t, brokertest.Start(t), nil)
	topic := brokertest.NewTopic(t, tr, 1, nil)
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 10 * time.Second})
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
	// Close during a 10 s long poll in flight is prompt too.
	start = time.Now()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close with a 10s long poll in flight took %v", d)
	}

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
	cl, err := sarama.NewClient(seeds, NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tr, err := NewFromClient(cl)
	if err != nil {
		t.Fatal(err)
	}
	var got sarama.Client
	if !tr.As(&got) || got != cl {
		t.Fatal("As(*sarama.Client) does not give the caller's client")
	}
	if tr.As(new(int)) {
		t.Fatal("As(*int) reported true")
	}
	topic := brokertest.NewTopic(t, tr, 1, nil)
	brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
	f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{})
	brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(map[int32]int64{0: 1}))
	var adm sarama.ClusterAdmin
	if !tr.As(&adm) {
		t.Fatal("As(*sarama.ClusterAdmin) failed")
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if cl.Closed() {
		t.Fatal("Close closed the caller's client")
	}
	if err := cl.RefreshMetadata(topic); err != nil {
		t.Fatalf("caller's client after Close: %v", err)
	}
	if _, err := cl.GetOffset(topic, 0, sarama.OffsetNewest); err != nil {
		t.Fatalf("caller's client after Close: %v", err)
	}
}

func TestConfigChecks(t *testing.T) {
	seeds := []string{"127.0.0.1:1"}
	t.Run("old protocol version rejected at construction", func(t *testing.T) {
		cfg := sarama.NewConfig()
		cfg.Version = sarama.V2_0_0_0
		_, err := New(seeds, cfg)
		if !errors.Is(err, transport.ErrInvalidConfig) || !bytes.Contains([]byte(err.Error()), []byte("Config.Version")) {
			t.Fatalf("New with Version 2.0: %v", err)
		}
		cl, err := sarama.NewClient(brokertest.Start(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if _, err := NewFromClient(cl); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Fatalf("NewFromClient with Version 2.0: %v", err)
		}
	})
	t.Run("no seeds", func(t *testing.T) {
		if _, err := New(nil, nil); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Fatalf("New(nil): %v", err)
		}
	})
	t.Run("transactional id rejected", func(t *testing.T) {
		cfg := NewConfig()
		cfg.Producer.Idempotent = true
		cfg.Producer.Transaction.ID = "x"
		cfg.Net.MaxOpenRequests = 1
		if _, err := New(seeds, cfg); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Fatalf("New with Transaction.ID: %v", err)
		}
	})
	t.Run("caller config is not modified", func(t *testing.T) {
		cfg := sarama.NewConfig()
		tr, err := New(seeds, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		if cfg.Producer.Return.Successes || cfg.Net.Proxy.Enable {
			t.Fatal("New modified the caller's config")
		}
		if !tr.cfg.Producer.Return.Successes {
			t.Fatal("Return.Successes not set on the transport's copy")
		}
		if p, _ := tr.cfg.Producer.Partitioner("t").Partition(&sarama.ProducerMessage{Partition: 5, Key: sarama.StringEncoder("k")}, 8); p != 5 {
			t.Fatalf("partitioner chose %d for explicit partition 5", p)
		}
	})
	t.Run("invalid config", func(t *testing.T) {
		cfg := NewConfig()
		cfg.Producer.Idempotent = true // needs MaxOpenRequests 1 and acks all
		cfg.Net.MaxOpenRequests = 5
		if _, err := New(seeds, cfg); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Fatalf("New with an invalid idempotent config: %v", err)
		}
	})
	t.Run("idempotent producer works", func(t *testing.T) {
		cfg := NewConfig()
		cfg.Producer.Idempotent = true
		cfg.Net.MaxOpenRequests = 1
		tr := newT(t, brokertest.Start(t), cfg)
		topic := brokertest.NewTopic(t, tr, 1, nil)
		if off := brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")}); off != 0 {
			t.Fatalf("offset %d", off)
		}
	})
}

func TestNoGoroutineLeaks(t *testing.T) {
	seeds := brokertest.Start(t)
	use := func() {
		tr, err := New(seeds, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		topic := brokertest.NewTopic(t, tr, 2, nil)
		brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
		f := brokertest.NewFetcher(t, tr, topic, map[int32]int64{0: 0, 1: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(map[int32]int64{0: 1}))
		// A second fetcher left open with a long poll in flight:
		// Transport.Close must close it.
		f2, err := tr.NewFetcher(brokertest.Ctx(t, 10*time.Second), topic, map[int32]int64{0: 1}, transport.FetchOptions{MaxWait: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		pctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, _ = f2.Poll(pctx)
	}
	use() // sarama's metrics start process-wide goroutines once
	base := runtime.NumGoroutine()
	start := time.Now()
	use()
	brokertest.NoLeaks(t, base)
	t.Logf("open, use and close with a 10s long poll in flight: %v", time.Since(start))
}

func TestWrongSASLPassword(t *testing.T) {
	_, seeds := brokertest.StartCluster(t, kfake.EnableSASL(), kfake.Superuser("PLAIN", "user", "pass"))
	sasl := func(pass string) *sarama.Config {
		cfg := NewConfig()
		cfg.Net.SASL.Enable = true
		cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		cfg.Net.SASL.User, cfg.Net.SASL.Password = "user", pass
		return cfg
	}
	good := newT(t, seeds, sasl("pass"))
	topic := brokertest.NewTopic(t, good, 1, nil)
	brokertest.Produce(t, good, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})

	bad := newT(t, seeds, sasl("wrong"))
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
}

func TestUnreachableBrokers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	tr := newT(t, []string{addr}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = tr.EndOffsets(ctx, "t", []int32{0})
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("EndOffsets on an unreachable broker: %v after %v", err, time.Since(start))
	}
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.Is(err, transport.ErrBrokerUnavailable) && transport.IsRetriable(err)) {
		t.Fatalf("EndOffsets on an unreachable broker: %v", err)
	}
}

func TestTopicConfig(t *testing.T) {
	seeds := brokertest.Start(t)
	for _, v := range []sarama.KafkaVersion{DefaultVersion, sarama.V2_1_0_0} {
		t.Run(v.String(), func(t *testing.T) {
			cfg := NewConfig()
			cfg.Version = v // 2.1: legacy AlterConfigs, read-modify-write
			tr := newT(t, seeds, cfg)
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
			if e := get()["cleanup.policy"]; e.Value != "compact" || e.Source != transport.SourceTopic {
				t.Fatalf("cleanup.policy = %+v", e)
			}
			if err := tr.AlterTopicConfig(ctx, topic, map[string]string{"cleanup.policy": "compact,delete", "retention.ms": "86400000"}); err != nil {
				t.Fatal(err)
			}
			m := get()
			for k, v := range map[string]string{"cleanup.policy": "compact,delete", "retention.ms": "86400000", "segment.ms": "600000"} {
				if e := m[k]; e.Value != v || e.Source != transport.SourceTopic {
					t.Errorf("%s = %+v, want %q from the topic", k, e, v)
				}
			}
			for _, e := range m {
				if e.Source == transport.SourceUnknown {
					t.Errorf("%s has an unknown source", e.Name)
				}
			}
		})
	}
}
