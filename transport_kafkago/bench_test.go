package kafkagotransport

// Benchmarks of ktables over this adapter against raw kafka-go, in the same
// run on the same in-process kfake broker. Run with, for example:
//
//	go test -run '^$' -bench . -benchtime 3x ./...
//
// Each reports its own metrics (b.ReportMetric) next to the raw kafka-go
// figure and their ratio. kfake runs inside the test process, so broker and
// clients share the machine's cores: absolute numbers say more about the
// machine than about Kafka, ratios are the point.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

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

func benchTransport(b *testing.B, seeds []string, opts ...Option) *Transport {
	b.Helper()
	tr, err := New(seeds, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Close() })
	return tr
}

func rawClient(b *testing.B, seeds []string) *kafka.Client {
	b.Helper()
	rt := &kafka.Transport{}
	b.Cleanup(rt.CloseIdleConnections)
	return &kafka.Client{Addr: kafka.TCP(seeds...), Transport: rt}
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
// settings (500 ms long poll in flight), against a raw kafka-go ListOffsets
// round trip, the least a barrier can cost (SPEC B4). Target p50 ≤ 2 ms.
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
		resp, err := raw.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(0)}}})
		if err != nil {
			b.Fatal(err)
		}
		_ = resp
		rawLat = append(rawLat, time.Since(start))
	}
	p50, p99 := percentiles(lat)
	r50, r99 := percentiles(rawLat)
	b.ReportMetric(p50, "barrier-p50-ms")
	b.ReportMetric(p99, "barrier-p99-ms")
	b.ReportMetric(r50, "raw-listoffsets-p50-ms")
	b.ReportMetric(r99, "raw-listoffsets-p99-ms")
}

// BenchmarkPropagation: a write's time from the writer's ack to the moment
// a table in the same process has applied it (OnSet hook), against raw
// kafka-go: Client.Produce's ack to a Client.Fetch long-poll loop (500 ms,
// MinBytes 1) returning the record. Also from the start of the write, which
// cannot go negative when the reader wins the race with the writer's
// goroutine. Target: p50 ≤ 1.1× raw.
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

	raw := rawClient(b, seeds)
	rawConsumer := rawClient(b, seeds)
	rawSeen := make(chan time.Time, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		next := int64(0)
		for ctx.Err() == nil {
			resp, err := rawConsumer.Fetch(ctx, &kafka.FetchRequest{Topic: rawTopic, Partition: 0, Offset: next,
				MinBytes: 1, MaxBytes: 1 << 20, MaxWait: DefaultMaxWait})
			if err != nil {
				continue
			}
			for {
				r, err := resp.Records.ReadRecord()
				if err != nil {
					break
				}
				if r.Offset >= next {
					next = r.Offset + 1
					rawSeen <- time.Now()
				}
			}
		}
	})
	defer wg.Wait()
	defer cancel()

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
		resp, err := raw.Produce(ctx, &kafka.ProduceRequest{Topic: rawTopic, Partition: 0, RequiredAcks: kafka.RequireAll,
			Records: kafka.NewRecordReader(kafka.Record{Key: kafka.NewBytes(fmt.Appendf(nil, "k%d", i)), Value: kafka.NewBytes(val)})})
		if err == nil {
			err = resp.Error
		}
		if err != nil {
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
// partition), in records/s, against the fastest raw kafka-go read that
// keeps nil apart from empty: a Client.Fetch loop (50 MiB
// responses) copying keys and values into a map[string][]byte. (kafka.Reader
// is not a candidate: it turns empty values into nil.) Target ≥ 0.9× raw.
func BenchmarkCatchUp(b *testing.B) {
	const n, size = 200_000, 100
	seeds := brokertest.Start(b)
	tr := benchTransport(b, seeds)
	topic := benchTopic(b, tr, 1)
	ctx := context.Background()
	raw := rawClient(b, seeds)
	val := bytes.Repeat([]byte("v"), size)
	for i := 0; i < n; i += 2000 {
		recs := make([]kafka.Record, 0, 2000)
		for j := i; j < min(i+2000, n); j++ {
			recs = append(recs, kafka.Record{Key: kafka.NewBytes(fmt.Appendf(nil, "key-%09d", j)), Value: kafka.NewBytes(val)})
		}
		resp, err := raw.Produce(ctx, &kafka.ProduceRequest{Topic: topic, Partition: 0, RequiredAcks: kafka.RequireAll, Records: kafka.NewRecordReader(recs...)})
		if err == nil {
			err = resp.Error
		}
		if err != nil {
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

		rc := rawClient(b, seeds)
		start = time.Now()
		m := rawCatchUp(b, rc, topic, n)
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

// rawCatchUp reads partition 0 of topic from the start up to n records the
// fastest plain way with kafka-go that keeps nil and empty values apart.
func rawCatchUp(b *testing.B, cl *kafka.Client, topic string, n int) map[string][]byte {
	ctx := context.Background()
	m := make(map[string][]byte, n)
	next := int64(0)
	for next < int64(n) {
		resp, err := cl.Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: 0, Offset: next,
			MinBytes: 1, MaxBytes: 50 << 20, MaxWait: DefaultMaxWait})
		if err != nil {
			b.Fatal(err)
		}
		for {
			r, err := resp.Records.ReadRecord()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
				break
			}
			if r.Offset < next {
				continue
			}
			next = r.Offset + 1
			k := readBytes(r.Key)
			if v := readBytes(r.Value); v == nil {
				delete(m, string(k))
			} else {
				m[string(k)] = v
			}
		}
	}
	return m
}

// BenchmarkWrite64: 64 goroutines writing 100 B values through a
// ktables.Writer over this adapter, in records/s, against raw kafka-go: 64
// goroutines calling Client.Produce to an explicit partition, and a
// kafka.Writer (BatchTimeout 1 ms, acks=all, a balancer returning the
// explicit partition) shared by the 64 goroutines. Target ≥ 0.9× the
// faster raw path.
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
	raw := rawClient(b, seeds)
	kw := &kafka.Writer{Addr: kafka.TCP(seeds...), Topic: topic, Balancer: partitionZero{},
		BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll, Transport: &kafka.Transport{}}
	defer kw.Close()
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
	var ours, rawProduce, rawWriter []float64
	for b.Loop() {
		ours = append(ours, run(func(g, i int) error {
			return w.Set(ctx, fmt.Sprintf("w%d-%d", g, i), val)
		}))
		rawProduce = append(rawProduce, run(func(g, i int) error {
			resp, err := raw.Produce(ctx, &kafka.ProduceRequest{Topic: topic, Partition: 0, RequiredAcks: kafka.RequireAll,
				Records: kafka.NewRecordReader(kafka.Record{Key: kafka.NewBytes(fmt.Appendf(nil, "w%d-%d", g, i)), Value: kafka.NewBytes(val)})})
			if err == nil {
				err = resp.Error
			}
			return err
		}))
		rawWriter = append(rawWriter, run(func(g, i int) error {
			return kw.WriteMessages(ctx, kafka.Message{Key: fmt.Appendf(nil, "w%d-%d", g, i), Value: val})
		}))
	}
	o, rp, rw := slices.Max(ours), slices.Max(rawProduce), slices.Max(rawWriter)
	b.ReportMetric(o, "records/s")
	b.ReportMetric(rp, "raw-produce-records/s")
	b.ReportMetric(rw, "raw-writer-records/s")
	b.ReportMetric(o/max(rp, rw), "x-raw")
}

// partitionZero is a kafka.Balancer that sends every message to partition
// 0, standing for "the partition the application chose".
type partitionZero struct{}

func (partitionZero) Balance(kafka.Message, ...int) int { return 0 }
