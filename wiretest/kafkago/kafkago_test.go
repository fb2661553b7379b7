package kafkagowire

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	kafkagotransport "github.com/ktables/ktables/transport_kafkago"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
)

// TestNewFromClientHonoursPartition: over a plain caller's kafka.Client the
// transport produces to the explicit partition. (kafkatest.RunAdapterChecks
// checks kafkagotransport.New.)
func TestNewFromClientHonoursPartition(t *testing.T) {
	seeds := kafkatest.Start(t)
	tr := newT(t, seeds)
	topic := kafkatest.NewTopic(t, tr, 3, nil)
	cl := &kafka.Client{Addr: kafka.TCP(seeds...), Transport: &kafka.Transport{}}
	defer cl.Transport.(*kafka.Transport).CloseIdleConnections()
	tr2, err := kafkagotransport.NewFromClient(cl)
	if err != nil {
		t.Fatal(err)
	}
	defer tr2.Close()
	for _, p := range []int32{1, 1, 0, 0} {
		kafkatest.Produce(t, tr2, topic, transport.Record{Key: []byte("same-key"), Value: []byte("y"), Partition: p})
	}
	ends, err := tr.EndOffsets(kafkatest.Ctx(t, 10*time.Second), topic, []int32{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int32]int64{0: 2, 1: 2, 2: 0}; fmt.Sprint(ends) != fmt.Sprint(want) {
		t.Fatalf("end offsets %v, want %v", ends, want)
	}
}

// TestNotLeader: kafka-go does not retry NOT_LEADER_FOR_PARTITION; the
// adapter reports it retriable, with the kafka.Error reachable, and the core
// retries. (Error kinds and native codes are checked for every adapter by
// kafkatest.RunAdapterChecks.)
func TestNotLeader(t *testing.T) {
	c, seeds := kafkatest.StartCluster(t)
	tr := newT(t, seeds)
	ctx := kafkatest.Ctx(t, 30*time.Second)

	topic := kafkatest.NewTopic(t, tr, 1, nil)

	t.Run("not leader is reported retriable", func(t *testing.T) {
		// kafka-go does not retry: the core does.
		kafkatest.FailNext(t, c, kmsg.ListOffsets, topic, 1, kerr.NotLeaderForPartition)
		_, err := tr.EndOffsets(ctx, topic, []int32{0})
		if !errors.Is(err, transport.ErrNotLeader) || !transport.IsRetriable(err) {
			t.Fatalf("EndOffsets: %v", err)
		}
		if ke, ok := errors.AsType[kafka.Error](err); !ok || ke != kafka.NotLeaderForPartition {
			t.Errorf("errors.As(kafka.Error) = %v, want NotLeaderForPartition (err %v)", ke, err)
		}
		if _, err := tr.EndOffsets(ctx, topic, []int32{0}); err != nil {
			t.Fatalf("after the fault: %v", err)
		}
	})
}

func TestCloseKeepsCallerClient(t *testing.T) {
	seeds := kafkatest.Start(t)
	own := &kafka.Transport{}
	defer own.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(seeds...), Transport: own}
	tr, err := kafkagotransport.NewFromClient(cl)
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
	topic := kafkatest.NewTopic(t, tr, 1, nil)
	kafkatest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
	f := kafkatest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{})
	kafkatest.PollUntil(t, f, 10*time.Second, kafkatest.Reached(map[int32]int64{0: 1}))
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if cl.Transport != own || cl.Addr.String() != kafka.TCP(seeds...).String() {
		t.Fatal("the caller's client was changed")
	}
	ctx := kafkatest.Ctx(t, 10*time.Second)
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

// TestSASLThroughDialer: SASL PLAIN on a kafka.Transport authenticates,
// and a wrong password configured on a kafka.Dialer (not the kafka.Transport
// kafkatest.RunAdapterChecks uses) fails calls with a fatal
// ErrAuthentication in time.
func TestSASLThroughDialer(t *testing.T) {
	_, seeds := kafkatest.StartCluster(t, kfake.EnableSASL(), kfake.Superuser("PLAIN", "user", "pass"))
	good := newT(t, seeds, kafkagotransport.WithTransport(&kafka.Transport{SASL: plain.Mechanism{Username: "user", Password: "pass"}}))
	topic := kafkatest.NewTopic(t, good, 1, nil)
	kafkatest.Produce(t, good, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})

	bad := newT(t, seeds, kafkagotransport.WithDialer(&kafka.Dialer{SASLMechanism: plain.Mechanism{Username: "user", Password: "wrong"}}))
	ctx := kafkatest.Ctx(t, 10*time.Second)
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
}

func TestClientOptions(t *testing.T) {
	seeds := kafkatest.Start(t)
	for _, c := range []struct {
		name string
		err  func() error
	}{
		{"no seeds", func() error { _, err := kafkagotransport.New(nil); return err }},
		{"transport and dialer", func() error {
			_, err := kafkagotransport.New(seeds, kafkagotransport.WithTransport(&kafka.Transport{}), kafkagotransport.WithDialer(&kafka.Dialer{}))
			return err
		}},
		{"bad acks", func() error { _, err := kafkagotransport.New(seeds, kafkagotransport.WithRequiredAcks(7)); return err }},
		{"bad timeout", func() error {
			_, err := kafkagotransport.New(seeds, kafkagotransport.WithRequestTimeout(0))
			return err
		}},
		{"nil client", func() error { _, err := kafkagotransport.NewFromClient(nil); return err }},
		{"client without address", func() error { _, err := kafkagotransport.NewFromClient(&kafka.Client{}); return err }},
		{"client and dialer", func() error {
			_, err := kafkagotransport.NewFromClient(&kafka.Client{Addr: kafka.TCP(seeds...)}, kafkagotransport.WithDialer(&kafka.Dialer{}))
			return err
		}},
	} {
		if err := c.err(); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", c.name, err)
		}
	}

	// Options reach the wire: client id and compression from a Dialer,
	// acks=1 and read committed.
	tr := newT(t, seeds, kafkagotransport.WithDialer(&kafka.Dialer{ClientID: "ktables-test", Timeout: 5 * time.Second}),
		kafkagotransport.WithCompression(kafka.Zstd), kafkagotransport.WithRequiredAcks(kafka.RequireOne), kafkagotransport.WithReadCommitted())
	if !tr.ReadCommitted() {
		t.Fatal("ReadCommitted() false")
	}
	topic := kafkatest.NewTopic(t, tr, 1, nil)
	for i := range 3 {
		kafkatest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: bytes.Repeat([]byte("z"), 1000*i)})
	}
	f := kafkatest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
	got := kafkatest.PollUntil(t, f, 10*time.Second, kafkatest.Reached(map[int32]int64{0: 3}))
	for i, r := range got.Records {
		if len(r.Value) != 1000*i || (r.Value == nil) {
			t.Fatalf("record %d: %d bytes (nil %v)", i, len(r.Value), r.Value == nil)
		}
	}

	// acks=none: Produce returns without an offset.
	trn := newT(t, seeds, kafkagotransport.WithRequiredAcks(kafka.RequireNone))
	if off := kafkatest.Produce(t, trn, topic, transport.Record{Key: []byte("k"), Value: []byte("v")}); off != -1 {
		t.Fatalf("acks=none offset %d, want -1", off)
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
