package saramatransport

// Benchmarks of ktables over this adapter against raw sarama, in the same
// run on the same in-process kfake broker. Run with, for example:
//
//	go test -run '^$' -bench . -benchtime 3x .
//
// Each reports its own metrics (b.ReportMetric) next to the raw sarama
// figure and their ratio. kfake runs inside the test process, so broker and
// clients share the machine's cores: absolute numbers say more about the
// machine than about Kafka, ratios are the point.

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/internal/brokertest"
	"github.com/ktables/ktables/transport"
)

func percentiles(ds []time.Duration) (p50, p99 float64) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := min(int(q*float64(len(s))), len(s)-1)
		return float64(s[i]) / float64(time.Millisecond)
	}
	return at(0.50), at(0.99)
}

func benchTransport(b *testing.B, seeds []string) *Transport {
	b.Helper()
	tr, err := New(seeds, NewConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Close() })
	return tr
}

// rawConfig is the raw sarama baseline's config: the same defaults as the
// transport's (NewConfig: acks=all, read committed), the manual
// partitioner and successes returned, as a sarama user producing to
// explicit partitions would set.
func rawConfig() *sarama.Config {
	cfg := NewConfig()
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.Return.Successes = true
	return cfg
}

func rawClient(b *testing.B, seeds []string) sarama.Client {
	b.Helper()
	cl, err := sarama.NewClient(seeds, rawConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cl.Close() })
	return cl
}

func rawProducer(b *testing.B, seeds []string) sarama.SyncProducer {
	b.Helper()
	p, err := sarama.NewSyncProducer(seeds, rawConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	return p
}

func benchTopic(b *testing.B, tr *Transport, parts int32) string {
	b.Helper()
	topic := brokertest.Topic(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.CreateTopic(ctx, transport.TopicSpec{Name: topic, Partitions: parts, Configs: map[string]string{"cleanup.policy": "compact"}}); err != nil {
		b.Fatal(err)
	}
	return topic
}

// BenchmarkIdleBarrier: Barrier on an idle, caught-up table with default
// settings (500 ms long poll in flight), against a raw sarama
// Client.GetOffset (one ListOffsets round trip), the least a barrier can
// cost (SPEC B4). Target p50 ≤ 2 ms.
func BenchmarkIdleBarrier(b *testing.B) {
	seeds := brokertest.Start(b)
	tr := benchTransport(b, seeds)
	topic := benchTopic(b, tr, 1)
	ctx := context.Background()
	if _, err := tr.Produce(ctx, topic, transport.Record{Key: []byte("k"), Value: []byte("v")}); err != nil {
		b.Fatal(err)
	}
	tbl, err := ktables.Open(ctx, tr, topic, ktables.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	defer tbl.Close()
	raw := rawClient(b, seeds)
	var lat, rawLat []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := tbl.Barrier(ctx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		start = time.Now()
		if _, err := raw.GetOffset(topic, 0, sarama.OffsetNewest); err != nil {
			b.Fatal(err)
		}
		rawLat = append(rawLat, time.Since(start))
	}
	p50, p99 := percentiles(lat)
	r50, r99 := percentiles(rawLat)
	b.ReportMetric(p50, "barrier-p50-ms")
	b.ReportMetric(p99, "barrier-p99-ms")
	b.ReportMetric(r50, "raw-getoffset-p50-ms")
	b.ReportMetric(r99, "raw-getoffset-p99-ms")
}

// BenchmarkPropagation: a write's time from the writer's ack to the moment
// a table in the same process has applied it (OnSet hook), against raw
// sarama: a SyncProducer's ack to a PartitionConsumer (default 500 ms
// MaxWaitTime) delivering the message. Also from the start of the write,
// which cannot go negative when the reader wins the race with the
// writer's goroutine. Target: p50 ≤ 1.1× raw.
func BenchmarkPropagation(b *testing.B) {
	seeds := brokertest.Start(b)
	tr := benchTransport(b, seeds)
	topic := benchTopic(b, tr, 1)
	rawTopic := benchTopic(b, tr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	seen := make(chan time.Time, 1)
	tbl, err := ktables.Open(ctx, tr, topic, ktables.Bytes(),
		ktables.OnSet(func(string, []byte) { seen <- time.Now() }))
	if err != nil {
		b.Fatal(err)
	}
	defer tbl.Close()
	wtr := benchTransport(b, seeds)
	w, err := ktables.OpenWriter(ctx, wtr, topic, ktables.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()

	raw := rawProducer(b, seeds)
	consumer, err := sarama.NewConsumerFromClient(rawClient(b, seeds))
	if err != nil {
		b.Fatal(err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(rawTopic, 0, sarama.OffsetOldest)
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	rawSeen := make(chan time.Time, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		for range pc.Messages() {
			rawSeen <- time.Now()
		}
	})
	defer wg.Wait()
	defer pc.AsyncClose()

	val := bytes.Repeat([]byte("v"), 100)
	var ackLat, sendLat, rawAck, rawSend []time.Duration
	i := 0
	for b.Loop() {
		i++
		start := time.Now()
		if err := w.Set(ctx, fmt.Sprintf("k%d", i), val); err != nil {
			b.Fatal(err)
		}
		ack := time.Now()
		vis := <-seen
		ackLat = append(ackLat, max(vis.Sub(ack), 0))
		sendLat = append(sendLat, vis.Sub(start))

		start = time.Now()
		if _, _, err := raw.SendMessage(&sarama.ProducerMessage{Topic: rawTopic, Partition: 0,
			Key: sarama.StringEncoder(fmt.Sprintf("k%d", i)), Value: sarama.ByteEncoder(val)}); err != nil {
			b.Fatal(err)
		}
		ack = time.Now()
		vis = <-rawSeen
		rawAck = append(rawAck, max(vis.Sub(ack), 0))
		rawSend = append(rawSend, vis.Sub(start))
	}
	a50, a99 := percentiles(ackLat)
	s50, s99 := percentiles(sendLat)
	ra50, ra99 := percentiles(rawAck)
	rs50, rs99 := percentiles(rawSend)
	b.ReportMetric(a50, "ack-visible-p50-ms")
	b.ReportMetric(a99, "ack-visible-p99-ms")
	b.ReportMetric(ra50, "raw-ack-visible-p50-ms")
	b.ReportMetric(ra99, "raw-ack-visible-p99-ms")
	b.ReportMetric(s50, "send-visible-p50-ms")
	b.ReportMetric(s99, "send-visible-p99-ms")
	b.ReportMetric(rs50, "raw-send-visible-p50-ms")
	b.ReportMetric(rs99, "raw-send-visible-p99-ms")
	if rs50 > 0 {
		b.ReportMetric(s50/rs50, "send-visible-p50-x-raw")
	}
}

// BenchmarkCatchUp: opening a table over 200k records of 100 B (one
// partition), in records/s, against a raw sarama PartitionConsumer from
// the oldest offset storing keys and values into a map[string][]byte (same
// config: default fetch sizes, read committed). Target ≥ 0.9× raw.
func BenchmarkCatchUp(b *testing.B) {
	const n, size, chunk = 200_000, 100, 2000
	seeds := brokertest.Start(b)
	tr := benchTransport(b, seeds)
	topic := benchTopic(b, tr, 1)
	ctx := context.Background()
	raw := rawProducer(b, seeds)
	val := bytes.Repeat([]byte("v"), size)
	for i := 0; i < n; i += chunk {
		msgs := make([]*sarama.ProducerMessage, 0, chunk)
		for j := i; j < min(i+chunk, n); j++ {
			msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Partition: 0,
				Key: sarama.ByteEncoder(fmt.Appendf(nil, "key-%09d", j)), Value: sarama.ByteEncoder(val)})
		}
		if err := raw.SendMessages(msgs); err != nil {
			b.Fatal(err)
		}
	}
	var ours, theirs []float64
	for b.Loop() {
		rtr := benchTransport(b, seeds)
		start := time.Now()
		tbl, err := ktables.Open(ctx, rtr, topic, ktables.Bytes(), ktables.WithoutEnsureTopic())
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		if tbl.Len() != n || tbl.Status() != ktables.StatusCaughtUp {
			b.Fatalf("table has %d keys, status %v", tbl.Len(), tbl.Status())
		}
		_ = tbl.Close()
		_ = rtr.Close()
		ours = append(ours, n/d.Seconds())

		start = time.Now()
		m := rawCatchUp(b, seeds, topic, n)
		d = time.Since(start)
		if len(m) != n {
			b.Fatalf("raw map has %d keys", len(m))
		}
		theirs = append(theirs, n/d.Seconds())
	}
	o, r := slices.Max(ours), slices.Max(theirs)
	b.ReportMetric(o, "records/s")
	b.ReportMetric(r, "raw-records/s")
	b.ReportMetric(o/r, "x-raw")
}

// rawCatchUp reads partition 0 of topic from the oldest offset up to n
// records with a sarama PartitionConsumer, connecting included (as Open
// includes it).
func rawCatchUp(b *testing.B, seeds []string, topic string, n int) map[string][]byte {
	consumer, err := sarama.NewConsumer(seeds, rawConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	m := make(map[string][]byte, n)
	for msg := range pc.Messages() {
		if msg.Value == nil {
			delete(m, string(msg.Key))
		} else {
			m[string(msg.Key)] = msg.Value
		}
		if msg.Offset+1 >= int64(n) {
			break
		}
	}
	return m
}

// BenchmarkWrite64: 64 goroutines writing 100 B values through a
// ktables.Writer over this adapter, in records/s, against raw sarama: 64
// goroutines sharing one SyncProducer (acks=all, manual partitioner)
// sending the same records. Target ≥ 0.9× raw.
func BenchmarkWrite64(b *testing.B) {
	const writers, each = 64, 100
	seeds := brokertest.Start(b)
	tr := benchTransport(b, seeds)
	topic := benchTopic(b, tr, 1)
	ctx := context.Background()
	w, err := ktables.OpenWriter(ctx, tr, topic, ktables.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	raw := rawProducer(b, seeds)
	val := bytes.Repeat([]byte("v"), 100)

	run := func(write func(w, i int) error) float64 {
		var wg sync.WaitGroup
		start := time.Now()
		for g := range writers {
			wg.Go(func() {
				for i := range each {
					if err := write(g, i); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return writers * each / time.Since(start).Seconds()
	}
	var ours, theirs []float64
	for b.Loop() {
		ours = append(ours, run(func(g, i int) error {
			return w.Set(ctx, fmt.Sprintf("w%d-%d", g, i), val)
		}))
		theirs = append(theirs, run(func(g, i int) error {
			_, _, err := raw.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: 0,
				Key: sarama.StringEncoder(fmt.Sprintf("w%d-%d", g, i)), Value: sarama.ByteEncoder(val)})
			return err
		}))
	}
	o, r := slices.Max(ours), slices.Max(theirs)
	b.ReportMetric(o, "records/s")
	b.ReportMetric(r, "raw-records/s")
	b.ReportMetric(o/r, "x-raw")
}
