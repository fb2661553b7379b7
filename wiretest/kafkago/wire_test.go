package kafkagowire

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
)

// TestNilVersusEmptyAcrossClients checks SPEC R1 over the wire in both
// directions against another client (franz-go), and shows the kafka-go
// quirk the adapter avoids: kafka.Reader turns an empty value into nil.
func TestNilVersusEmptyAcrossClients(t *testing.T) {
	seeds := kafkatest.Start(t)
	tr := newT(t, seeds)
	topic := kafkatest.NewTopic(t, tr, 1, nil)
	ctx := kafkatest.Ctx(t, 20*time.Second)

	// kafka-go adapter -> franz-go.
	kafkatest.Produce(t, tr, topic, transport.Record{Key: []byte("tomb"), Value: nil})
	kafkatest.Produce(t, tr, topic, transport.Record{Key: []byte("empty"), Value: []byte{}})
	// franz-go -> kafka-go adapter.
	kcl := kgoClient(t, seeds, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(0)}}))
	if err := kcl.ProduceSync(ctx,
		&kgo.Record{Key: []byte("tomb2"), Value: nil},
		&kgo.Record{Key: []byte("empty2"), Value: []byte{}}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	var seen []*kgo.Record
	for len(seen) < 4 && ctx.Err() == nil {
		seen = append(seen, kcl.PollFetches(ctx).Records()...)
	}
	if len(seen) != 4 {
		t.Fatalf("franz-go read %d records", len(seen))
	}
	for _, r := range seen[:2] {
		if wantNil := string(r.Key) == "tomb"; (r.Value == nil) != wantNil {
			t.Errorf("franz-go reads %s written by the adapter with value nil=%v", r.Key, r.Value == nil)
		}
	}

	f := kafkatest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
	got := kafkatest.PollUntil(t, f, 10*time.Second, kafkatest.Reached(map[int32]int64{0: 4}))
	for _, r := range got.Records {
		wantNil := string(r.Key) == "tomb" || string(r.Key) == "tomb2"
		if (r.Value == nil) != wantNil || len(r.Value) != 0 {
			t.Errorf("adapter reads %s with value %q nil=%v", r.Key, r.Value, r.Value == nil)
		}
	}

	// The quirk: kafka.Reader delivers the empty value as nil.
	rd := kafka.NewReader(kafka.ReaderConfig{Brokers: seeds, Topic: topic, Partition: 0, MaxWait: 100 * time.Millisecond})
	defer rd.Close()
	if err := rd.SetOffset(1); err != nil {
		t.Fatal(err)
	}
	m, err := rd.ReadMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kafka.Reader reads the empty value of %q as nil=%v (the adapter reads it as non-nil)", m.Key, m.Value == nil)
}

// TestConcurrentProducersPipelined checks X4: 64 concurrent Produce calls
// run concurrently rather than one after another.
func TestConcurrentProducersPipelined(t *testing.T) {
	_, seeds := kafkatest.StartCluster(t)
	tr := newT(t, seeds)
	topic := kafkatest.NewTopic(t, tr, 1, nil)
	ctx := kafkatest.Ctx(t, 30*time.Second)
	// Warm up, and measure one produce.
	for range 20 {
		kafkatest.Produce(t, tr, topic, transport.Record{Key: []byte("warm"), Value: []byte("v")})
	}
	const rounds = 20
	start := time.Now()
	for range rounds {
		kafkatest.Produce(t, tr, topic, transport.Record{Key: []byte("one"), Value: []byte("v")})
	}
	one := time.Since(start) / rounds

	const workers = 64
	burst := func() time.Duration {
		var wg sync.WaitGroup
		start := time.Now()
		for w := range workers {
			wg.Go(func() {
				if _, err := tr.Produce(ctx, topic, transport.Record{Key: fmt.Appendf(nil, "w%d", w), Value: []byte("v")}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	first := burst() // kafka-go dials a connection per concurrent request
	all := burst()
	t.Logf("one produce %v; %d concurrent produces %v (%.1fx one; first burst, dialing, %v) on %d CPUs",
		one, workers, all, float64(all)/float64(one), first, runtime.NumCPU())
	if all > time.Duration(workers/2)*one && all > 50*time.Millisecond {
		t.Fatalf("%d concurrent produces took %v, one takes %v: serialized?", workers, all, one)
	}
}

// TestSeveralLeaders: partitions led by different brokers are fetched with
// one request per leader, and a busy partition is not held up by idle
// ones.
func TestSeveralLeaders(t *testing.T) {
	_, seeds := kafkatest.StartCluster(t, kfake.NumBrokers(3))
	tr := newT(t, seeds)
	topic := kafkatest.NewTopic(t, tr, 6, nil)
	for p := range int32(6) {
		kafkatest.Produce(t, tr, topic, transport.Record{Key: fmt.Appendf(nil, "k%d", p), Value: []byte("v"), Partition: p})
	}
	from := map[int32]int64{0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
	f := kafkatest.NewFetcher(t, tr, topic, from, transport.FetchOptions{MaxWait: 5 * time.Second})
	want := map[int32]int64{0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
	got := kafkatest.PollUntil(t, f, 20*time.Second, kafkatest.Reached(want))
	if len(got.Records) != 6 {
		t.Fatalf("%d records", len(got.Records))
	}
	// Live: one new record on one partition arrives well before the 5 s
	// long polls of the other leaders end.
	done := make(chan *kafkatest.Collected, 1)
	go func() { done <- kafkatest.PollUntil(t, f, 20*time.Second, kafkatest.Reached(map[int32]int64{4: 2})) }()
	start := time.Now()
	kafkatest.Produce(t, tr, topic, transport.Record{Key: []byte("live"), Value: []byte("v"), Partition: 4})
	c := <-done
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("a record on one leader took %v to arrive while others long-polled", d)
	}
	if len(c.Records) != 1 || c.Records[0].Partition != 4 {
		t.Fatalf("records %v", c.Records)
	}
}
