package memtransport_test

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// SPEC R1: nil and empty keys and values survive produce and fetch.
func TestNilVersusEmpty(t *testing.T) {
	tr, topic := setup(t, 1)
	ctx := context.Background()
	cases := []transport.Record{
		{Key: nil, Value: nil},
		{Key: []byte{}, Value: []byte{}},
		{Key: []byte("k"), Value: nil},
		{Key: []byte("k"), Value: []byte{}},
		{Key: nil, Value: []byte("v")},
		{Key: []byte{}, Value: nil},
		{Key: []byte("k"), Value: []byte("v"), Headers: []transport.Header{{Key: "a", Value: nil}, {Key: "b", Value: []byte{}}, {Key: "a", Value: []byte("x")}}},
	}
	for _, rec := range cases {
		if _, err := tr.Produce(ctx, topic, rec); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, got []transport.Record) {
		t.Helper()
		if len(got) != len(cases) {
			t.Fatalf("%s: %d records, want %d", what, len(got), len(cases))
		}
		for i, want := range cases {
			g := got[i]
			if (g.Key == nil) != (want.Key == nil) || !bytes.Equal(g.Key, want.Key) {
				t.Errorf("%s %d: key %#v, want %#v", what, i, g.Key, want.Key)
			}
			if (g.Value == nil) != (want.Value == nil) || !bytes.Equal(g.Value, want.Value) {
				t.Errorf("%s %d: value %#v, want %#v", what, i, g.Value, want.Value)
			}
			if len(g.Headers) != len(want.Headers) {
				t.Fatalf("%s %d: headers %v, want %v", what, i, g.Headers, want.Headers)
			}
			for j, h := range want.Headers {
				gh := g.Headers[j]
				if gh.Key != h.Key || (gh.Value == nil) != (h.Value == nil) || !bytes.Equal(gh.Value, h.Value) {
					t.Errorf("%s %d: header %d = %#v, want %#v", what, i, j, gh, h)
				}
			}
			if g.Offset != int64(i) || g.Partition != 0 {
				t.Errorf("%s %d: offset %d partition %d", what, i, g.Offset, g.Partition)
			}
		}
	}
	f := newFetcher(t, tr, topic, map[int32]int64{0: 0}, time.Millisecond)
	check("fetched", poll(t, f).Records)
	stored, err := tr.Cluster().Records(topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	check("stored", stored)
}

// The log keeps its own copy: the producer may reuse its buffers, and a
// reader appending to a key cannot overwrite the value stored beside it.
func TestProduceCopiesAndIsolates(t *testing.T) {
	tr, topic := setup(t, 1)
	key, val := []byte("key"), []byte("value")
	if _, err := tr.Produce(context.Background(), topic, transport.Record{Key: key, Value: val}); err != nil {
		t.Fatal(err)
	}
	copy(key, "XXX")
	copy(val, "XXXXX")
	recs, _ := tr.Cluster().Records(topic, 0)
	k := recs[0].Key
	_ = append(k, "!!!"...)
	recs, _ = tr.Cluster().Records(topic, 0)
	if string(recs[0].Key) != "key" || string(recs[0].Value) != "value" {
		t.Fatalf("stored %q=%q", recs[0].Key, recs[0].Value)
	}
}

// Key, value and header values share one allocation per record.
func TestAppendAllocations(t *testing.T) {
	c := memtransport.NewCluster()
	defer c.Close()
	if err := c.CreateTopic(transport.TopicSpec{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	rec := transport.Record{Key: []byte("key"), Value: []byte("value"), Timestamp: time.Unix(1, 0)}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := c.Append("a", rec); err != nil {
			t.Fatal(err)
		}
	})
	// One for the bytes, plus the amortized growth of the log's slice.
	if allocs > 1.1 {
		t.Fatalf("%.2f allocations per append, want 1", allocs)
	}
}

func TestProduceTimestamp(t *testing.T) {
	tr, topic := setup(t, 1)
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	before := time.Now()
	tr.Produce(context.Background(), topic, transport.Record{Value: []byte("a")})
	tr.Produce(context.Background(), topic, transport.Record{Value: []byte("b"), Timestamp: ts})
	recs, _ := tr.Cluster().Records(topic, 0)
	if recs[0].Timestamp.Before(before) || recs[0].Timestamp.After(time.Now()) {
		t.Errorf("default timestamp %v not now", recs[0].Timestamp)
	}
	if !recs[1].Timestamp.Equal(ts) {
		t.Errorf("timestamp %v, want %v", recs[1].Timestamp, ts)
	}
}

func TestProduceErrors(t *testing.T) {
	tr, topic := setup(t, 2)
	ctx := context.Background()
	_, err := tr.Produce(ctx, "missing", transport.Record{})
	wantKind(t, err, transport.ErrUnknownTopic, false)
	_, err = tr.Produce(ctx, topic, transport.Record{Partition: 2})
	wantKind(t, err, transport.ErrUnknownPartition, true)
	_, err = tr.Produce(ctx, topic, transport.Record{Partition: -1})
	wantKind(t, err, transport.ErrUnknownPartition, true)
	_, err = tr.Produce(ctx, topic, transport.Record{Value: make([]byte, 1048589)})
	wantKind(t, err, transport.ErrRecordTooLarge, false)
	if err := tr.AlterTopicConfig(ctx, topic, map[string]string{"max.message.bytes": "10"}); err != nil {
		t.Fatal(err)
	}
	_, err = tr.Produce(ctx, topic, transport.Record{Value: []byte("01234567890")})
	wantKind(t, err, transport.ErrRecordTooLarge, false)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := tr.Produce(cctx, topic, transport.Record{}); err != context.Canceled {
		t.Fatalf("cancelled ctx: err = %v, want context.Canceled unwrapped", err)
	}
}

func TestProduceOffsetsPerPartition(t *testing.T) {
	tr, topic := setup(t, 2)
	for i := range 3 {
		if off := produce(t, tr, topic, 0, "k", "v"); off != int64(i) {
			t.Fatalf("partition 0 offset %d, want %d", off, i)
		}
	}
	if off := produce(t, tr, topic, 1, "k", "v"); off != 0 {
		t.Fatalf("partition 1 offset %d, want 0", off)
	}
	end, _ := tr.EndOffsets(context.Background(), topic, []int32{0, 1})
	if end[0] != 3 || end[1] != 1 {
		t.Fatalf("end offsets %v", end)
	}
}

// SPEC X4: concurrent produces get unique offsets, each partition dense.
func TestConcurrentProduce(t *testing.T) {
	tr, topic := setup(t, 1)
	const goroutines, each = 64, 100
	offs := make([][]int64, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				off, err := tr.Produce(context.Background(), topic, transport.Record{Value: []byte{byte(g)}})
				if err != nil {
					t.Error(err)
					return
				}
				offs[g] = append(offs[g], off)
			}
		})
	}
	wg.Wait()
	var all []int64
	for g, o := range offs {
		if !slices.IsSorted(o) {
			t.Errorf("goroutine %d saw offsets going back: %v", g, o)
		}
		all = append(all, o...)
	}
	slices.Sort(all)
	for i, o := range all {
		if o != int64(i) {
			t.Fatalf("offsets not unique and dense at %d: %d", i, o)
		}
	}
	recs, _ := tr.Cluster().Records(topic, 0)
	for g, o := range offs {
		for _, off := range o {
			if recs[off].Value[0] != byte(g) {
				t.Fatalf("offset %d holds goroutine %d's record, want %d", off, recs[off].Value[0], g)
			}
		}
	}
}

func TestAutoCreateTopics(t *testing.T) {
	tr := memtransport.New(memtransport.WithAutoCreateTopics(true), memtransport.WithDefaultPartitions(3))
	defer tr.Close()
	ps, err := tr.Partitions(context.Background(), "auto")
	if err != nil || !slices.Equal(ps, []int32{0, 1, 2}) {
		t.Fatalf("Partitions = %v, %v", ps, err)
	}
	if _, err := tr.Produce(context.Background(), "auto2", transport.Record{Partition: 2}); err != nil {
		t.Fatal(err)
	}
	if got := tr.Cluster().Topics(); !slices.Equal(got, []string{"auto", "auto2"}) {
		t.Fatalf("Topics = %v", got)
	}
	// Describing does not create, as in Kafka.
	if _, err := tr.DescribeTopicConfig(context.Background(), "auto3"); err == nil {
		t.Fatal("DescribeTopicConfig created a topic")
	}
}
