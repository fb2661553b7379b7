package franzwire

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	franztransport "github.com/ktables/ktables/transport_franz"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
)

// TestNewFromClientHonoursPartition: over a caller's client with kgo's
// default (sticky, murmur2) partitioner, a derived producer still honours
// rec.Partition; a client already using the manual partitioner is used as
// is. (kafkatest.RunAdapterChecks checks franztransport.New.)
func TestNewFromClientHonoursPartition(t *testing.T) {
	seeds := kafkatest.Start(t)
	tr := newT(t, seeds)
	topic := kafkatest.NewTopic(t, tr, 3, nil)

	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tr2, err := franztransport.NewFromClient(cl)
	if err != nil {
		t.Fatal(err)
	}
	defer tr2.Close()
	for _, p := range []int32{1, 1, 0} {
		kafkatest.Produce(t, tr2, topic, transport.Record{Key: []byte("same-key"), Value: []byte("y"), Partition: p})
	}
	cl3, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl3.Close()
	tr3, err := franztransport.NewFromClient(cl3)
	if err != nil {
		t.Fatal(err)
	}
	defer tr3.Close()
	kafkatest.Produce(t, tr3, topic, transport.Record{Key: []byte("same-key"), Value: []byte("z"), Partition: 0})

	ends, err := tr.EndOffsets(kafkatest.Ctx(t, 10*time.Second), topic, []int32{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int32]int64{0: 2, 1: 2, 2: 0}; fmt.Sprint(ends) != fmt.Sprint(want) {
		t.Fatalf("end offsets %v, want %v", ends, want)
	}
}

// TestFetchClientNotBlockedByLongPoll pins the kgo behaviour the adapter's
// fetch sessions rely on: kgo sends fetches on a dedicated connection per
// broker, so even a consuming client answers a ListOffsets during its own
// long poll. The client here is configured like a fetch session (a direct
// partition consumer). (That the transport's EndOffsets is not delayed is
// the conformance case X2/offsets_not_delayed_by_long_poll.)
func TestFetchClientNotBlockedByLongPoll(t *testing.T) {
	c, seeds := kafkatest.StartCluster(t)
	tr := newT(t, seeds)
	topic := kafkatest.NewTopic(t, tr, 1, nil)
	kafkatest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})

	// Count fetches that reach the broker for the topic.
	seen := kafkatest.Fail(t, c, kfake.Fault{Keys: []kmsg.Key{kmsg.Fetch}, Count: -1, Observe: true})

	const longPoll = 2 * time.Second
	fc, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.FetchMaxWait(longPoll),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(1)}}))
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	ctx := kafkatest.Ctx(t, 20*time.Second)
	pollDone := make(chan error, 1)
	go func() {
		pctx, cancel := context.WithTimeout(ctx, 2*longPoll)
		defer cancel()
		pollDone <- fc.PollFetches(pctx).Err0()
	}()
	// Wait until the long poll is parked at the broker.
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := seen.Wait(wctx, 1); err != nil {
		t.Fatalf("no fetch reached the broker: %v", err)
	}
	start := time.Now()
	if _, err := kadm.NewClient(fc).ListEndOffsets(ctx, topic); err != nil {
		t.Fatal(err)
	}
	same := time.Since(start)
	t.Logf("ListOffsets on the fetching client during a %v long poll: %v", longPoll, same)
	if same > longPoll/4 {
		t.Fatalf("ListOffsets on the fetching client waited behind its long poll: %v", same)
	}
	if err := <-pollDone; err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
}

// TestNotLeader: kgo retries NOT_LEADER_FOR_PARTITION on ListOffsets
// itself after refreshing metadata, so the caller never sees it. (Error
// kinds and native codes are checked for every adapter by
// kafkatest.RunAdapterChecks.)
func TestNotLeader(t *testing.T) {
	c, seeds := kafkatest.StartCluster(t)
	tr := newT(t, seeds)
	ctx := kafkatest.Ctx(t, 30*time.Second)

	topic := kafkatest.NewTopic(t, tr, 1, nil)

	t.Run("not leader is retried inside kgo", func(t *testing.T) {
		// kgo refreshes metadata and retries a sharded ListOffsets
		// on NOT_LEADER_FOR_PARTITION by itself.
		h := kafkatest.FailNext(t, c, kmsg.ListOffsets, topic, 1, kerr.NotLeaderForPartition)
		if _, err := tr.EndOffsets(ctx, topic, []int32{0}); err != nil {
			t.Fatalf("EndOffsets: %v", err)
		}
		if h.Hits() != 1 {
			t.Fatalf("fault hit %d times", h.Hits())
		}
	})
}

func TestCloseKeepsCallerClient(t *testing.T) {
	seeds := kafkatest.Start(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tr, err := franztransport.NewFromClient(cl)
	if err != nil {
		t.Fatal(err)
	}
	var got *kgo.Client
	if !tr.As(&got) || got != cl {
		t.Fatal("As(**kgo.Client) does not give the caller's client")
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
	ctx := kafkatest.Ctx(t, 10*time.Second)
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("caller's client after Close: %v", err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("still open")}).FirstErr(); err != nil {
		t.Fatalf("caller's client produce after Close: %v", err)
	}
}

func TestClientOptions(t *testing.T) {
	seeds := kafkatest.Start(t)
	ctx := kafkatest.Ctx(t, 20*time.Second)

	t.Run("franztransport.New rejects a transactional id", func(t *testing.T) {
		_, err := franztransport.New(seeds, kgo.TransactionalID("x"))
		if !errors.Is(err, transport.ErrInvalidConfig) {
			t.Fatalf("franztransport.New with TransactionalID: %v", err)
		}
	})
	t.Run("franztransport.New rejects no seeds", func(t *testing.T) {
		if _, err := franztransport.New(nil); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Fatalf("franztransport.New(nil): %v", err)
		}
	})

	tr := newT(t, seeds)
	topic := kafkatest.NewTopic(t, tr, 1, nil)
	kafkatest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})

	t.Run("transactional caller client reads but does not produce", func(t *testing.T) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.TransactionalID(kafkatest.Topic(t)))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		tc, err := franztransport.NewFromClient(cl)
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		if _, err := tc.Produce(ctx, topic, transport.Record{Key: []byte("k")}); !errors.Is(err, transport.ErrInvalidConfig) || !transport.IsFatal(err) {
			t.Fatalf("Produce through a transactional client: %v", err)
		}
		f := kafkatest.NewFetcher(t, tc, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		kafkatest.PollUntil(t, f, 10*time.Second, kafkatest.Reached(map[int32]int64{0: 1}))
	})

	t.Run("group and regex consumer caller clients", func(t *testing.T) {
		// A group consumer's options must not make fetch sessions join
		// the group.
		cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumerGroup("g"), kgo.ConsumeTopics(topic),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		tc, err := franztransport.NewFromClient(cl)
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		if !tc.ReadCommitted() {
			t.Fatal("read committed from the caller's client not detected")
		}
		f := kafkatest.NewFetcher(t, tc, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		kafkatest.PollUntil(t, f, 10*time.Second, kafkatest.Reached(map[int32]int64{0: 1}))

		rx, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeRegex(), kgo.ConsumeTopics("nothing-.*"))
		if err != nil {
			t.Fatal(err)
		}
		defer rx.Close()
		trx, err := franztransport.NewFromClient(rx)
		if err != nil {
			t.Fatal(err)
		}
		defer trx.Close()
		if _, err := trx.NewFetcher(ctx, topic, map[int32]int64{0: 0}, transport.FetchOptions{}); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Fatalf("NewFetcher from a regex consumer's options: %v", err)
		}
	})

	t.Run("extra options reach derived clients", func(t *testing.T) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		tc, err := franztransport.NewFromClient(cl, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		if !tc.ReadCommitted() {
			t.Fatal("read committed from extra options not detected")
		}
		if _, err := franztransport.NewFromClient(cl, kgo.FetchMaxWait(time.Millisecond)); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Fatalf("invalid derived options: %v", err)
		}
	})
}
