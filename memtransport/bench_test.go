package memtransport_test

import (
	"context"
	"testing"
	"time"

	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

func BenchmarkProduce(b *testing.B) {
	tr := memtransport.New()
	defer tr.Close()
	ctx := context.Background()
	tr.CreateTopic(ctx, transport.TopicSpec{Name: "t"})
	rec := transport.Record{Key: []byte("some-key-0001"), Value: make([]byte, 100)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.Produce(ctx, "t", rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProduceParallel(b *testing.B) {
	tr := memtransport.New()
	defer tr.Close()
	ctx := context.Background()
	tr.CreateTopic(ctx, transport.TopicSpec{Name: "t", Partitions: 8})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rec := transport.Record{Key: []byte("some-key-0001"), Value: make([]byte, 100)}
		for pb.Next() {
			rec.Partition = (rec.Partition + 1) % 8
			if _, err := tr.Produce(ctx, "t", rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPoll measures replay throughput: records delivered per second
// from a long log, in the fetcher's default batches.
func BenchmarkPoll(b *testing.B) {
	const n = 1 << 20
	c := memtransport.NewCluster()
	defer c.Close()
	c.CreateTopic(transport.TopicSpec{Name: "t"})
	rec := transport.Record{Key: []byte("some-key-0001"), Value: make([]byte, 100), Timestamp: time.Unix(1, 0)}
	for range n {
		c.Append("t", rec)
	}
	tr := c.Transport()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	records := 0
	for b.Loop() {
		f, err := tr.NewFetcher(ctx, "t", map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		for got := 0; got < n; {
			batch, err := f.Poll(ctx)
			if err != nil {
				b.Fatal(err)
			}
			got += len(batch.Records)
		}
		records += n
		f.Close()
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkPollWake measures a produce-to-Poll round trip on an idle,
// caught-up fetcher: the cost of waking a long poll.
func BenchmarkPollWake(b *testing.B) {
	tr := memtransport.New()
	defer tr.Close()
	ctx := context.Background()
	tr.CreateTopic(ctx, transport.TopicSpec{Name: "t"})
	f, _ := tr.NewFetcher(ctx, "t", map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: time.Hour})
	defer f.Close()
	got := make(chan struct{})
	go func() {
		for {
			batch, err := f.Poll(ctx)
			if err != nil {
				close(got)
				return
			}
			if len(batch.Records) > 0 {
				got <- struct{}{}
			}
		}
	}()
	rec := transport.Record{Key: []byte("k"), Value: []byte("v")}
	for b.Loop() {
		tr.Produce(ctx, "t", rec)
		<-got
	}
	f.Close()
	<-got
}
