package franztransport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables/internal/brokertest"
	"github.com/ktables/ktables/transport"
)

// TestNewFromClientHonoursPartition: over a caller's client with kgo's
// default (sticky, murmur2) partitioner, a derived producer still honours
// rec.Partition; a client already using the manual partitioner is used as
// is. (brokertest.RunAdapterChecks checks New.)
func TestNewFromClientHonoursPartition(t *testing.T) {
	seeds := brokertest.Start(t)
	tr := newT(t, seeds)
	topic := brokertest.NewTopic(t, tr, 3, nil)

	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tr2, err := NewFromClient(cl)
	if err != nil {
		t.Fatal(err)
	}
	defer tr2.Close()
	if tr2.prod != nil {
		t.Fatal("default-partitioner client chosen to produce")
	}
	for _, p := range []int32{1, 1, 0} {
		brokertest.Produce(t, tr2, topic, transport.Record{Key: []byte("same-key"), Value: []byte("y"), Partition: p})
	}
	cl3, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl3.Close()
	tr3, err := NewFromClient(cl3)
	if err != nil {
		t.Fatal(err)
	}
	defer tr3.Close()
	if tr3.prod != cl3 {
		t.Fatal("manual-partitioner client not used to produce")
	}
	brokertest.Produce(t, tr3, topic, transport.Record{Key: []byte("same-key"), Value: []byte("z"), Partition: 0})

	ends, err := tr.EndOffsets(brokertest.Ctx(t, 10*time.Second), topic, []int32{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int32]int64{0: 2, 1: 2, 2: 0}; fmt.Sprint(ends) != fmt.Sprint(want) {
		t.Fatalf("end offsets %v, want %v", ends, want)
	}
}

// TestFetchClientNotBlockedByLongPoll: kgo sends fetches on a dedicated
// connection per broker, so even the fetch session's own client answers a
// ListOffsets during its long poll. (That the transport's EndOffsets is not
// delayed is the conformance case X2/offsets_not_delayed_by_long_poll.)
func TestFetchClientNotBlockedByLongPoll(t *testing.T) {
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
	fc := f.(*fetcher).cl
	start := time.Now()
	if _, err := listOffsets(ctx, newSASLWatch(), fc, "probe", topic, []int32{0}, -1, false); err != nil {
		t.Fatal(err)
	}
	same := time.Since(start)
	t.Logf("ListOffsets on the fetching client during a %v long poll: %v", longPoll, same)
	if same > longPoll/4 {
		t.Fatalf("ListOffsets on the fetching client waited behind its long poll: %v", same)
	}
	if err := <-pollDone; err != nil {
		t.Fatal(err)
	}
}

// TestNotLeader: kgo retries NOT_LEADER_FOR_PARTITION on ListOffsets
// itself after refreshing metadata, so the caller never sees it. (Error
// kinds and native codes are checked for every adapter by
// brokertest.RunAdapterChecks.)
func TestNotLeader(t *testing.T) {
	c, seeds := brokertest.StartCluster(t)
	tr := newT(t, seeds)
	ctx := brokertest.Ctx(t, 30*time.Second)

	topic := brokertest.NewTopic(t, tr, 1, nil)

	t.Run("not leader is retried inside kgo", func(t *testing.T) {
		// kgo refreshes metadata and retries a sharded ListOffsets
		// on NOT_LEADER_FOR_PARTITION by itself.
		h := brokertest.FailNext(t, c, kmsg.ListOffsets, topic, 1, kerr.NotLeaderForPartition)
		if _, err := tr.EndOffsets(ctx, topic, []int32{0}); err != nil {
			t.Fatalf("EndOffsets: %v", err)
		}
		if h.Hits() != 1 {
			t.Fatalf("fault hit %d times", h.Hits())
		}
	})
}

func TestCloseKeepsCallerClient(t *testing.T) {
	seeds := brokertest.Start(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tr, err := NewFromClient(cl)
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
	ctx := brokertest.Ctx(t, 10*time.Second)
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("caller's client after Close: %v", err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("still open")}).FirstErr(); err != nil {
		t.Fatalf("caller's client produce after Close: %v", err)
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err       error
		kind      error
		retriable bool
	}{
		{kerr.TopicAuthorizationFailed, transport.ErrAuthorization, false},
		{kerr.GroupAuthorizationFailed, transport.ErrAuthorization, false},
		{&kadm.AuthError{Err: kerr.ClusterAuthorizationFailed}, transport.ErrAuthorization, false},
		{kerr.SaslAuthenticationFailed, transport.ErrAuthentication, false},
		{kerr.UnknownTopicOrPartition, transport.ErrUnknownTopic, false},
		{kerr.NotLeaderForPartition, transport.ErrNotLeader, true},
		{kerr.LeaderNotAvailable, transport.ErrNotLeader, true},
		{kerr.RequestTimedOut, transport.ErrTimeout, true},
		{kerr.TopicAlreadyExists, transport.ErrTopicExists, false},
		{kerr.InvalidConfig, transport.ErrInvalidConfig, false},
		{kerr.MessageTooLarge, transport.ErrRecordTooLarge, false},
		{kerr.RecordListTooLarge, transport.ErrRecordTooLarge, false},
		{kerr.CoordinatorLoadInProgress, nil, true},
		{kerr.UnknownServerError, nil, false},
		{fmt.Errorf("read: %w", ioEOF()), transport.ErrBrokerUnavailable, true},
		{kgo.ErrClientClosed, transport.ErrClosed, false},
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
	if err := wrap(ctx, "op", "t", kerr.RequestTimedOut); err != context.Canceled {
		t.Errorf("with a done ctx: %v, want context.Canceled", err)
	}
}

func ioEOF() error { return io.EOF }

func TestClientOptions(t *testing.T) {
	seeds := brokertest.Start(t)
	ctx := brokertest.Ctx(t, 20*time.Second)

	t.Run("New rejects a transactional id", func(t *testing.T) {
		_, err := New(seeds, kgo.TransactionalID("x"))
		if !errors.Is(err, transport.ErrInvalidConfig) {
			t.Fatalf("New with TransactionalID: %v", err)
		}
	})
	t.Run("New rejects no seeds", func(t *testing.T) {
		if _, err := New(nil); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Fatalf("New(nil): %v", err)
		}
	})

	tr := newT(t, seeds)
	topic := brokertest.NewTopic(t, tr, 1, nil)
	brokertest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})

	t.Run("transactional caller client reads but does not produce", func(t *testing.T) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.TransactionalID(brokertest.Topic(t)))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		tc, err := NewFromClient(cl)
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		if _, err := tc.Produce(ctx, topic, transport.Record{Key: []byte("k")}); !errors.Is(err, transport.ErrInvalidConfig) || !transport.IsFatal(err) {
			t.Fatalf("Produce through a transactional client: %v", err)
		}
		f := brokertest.NewFetcher(t, tc, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(map[int32]int64{0: 1}))
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
		tc, err := NewFromClient(cl)
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		if !tc.ReadCommitted() {
			t.Fatal("read committed from the caller's client not detected")
		}
		f := brokertest.NewFetcher(t, tc, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		brokertest.PollUntil(t, f, 10*time.Second, brokertest.Reached(map[int32]int64{0: 1}))

		rx, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeRegex(), kgo.ConsumeTopics("nothing-.*"))
		if err != nil {
			t.Fatal(err)
		}
		defer rx.Close()
		trx, err := NewFromClient(rx)
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
		tc, err := NewFromClient(cl, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		if !tc.ReadCommitted() {
			t.Fatal("read committed from extra options not detected")
		}
		if _, err := NewFromClient(cl, kgo.FetchMaxWait(time.Millisecond)); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Fatalf("invalid derived options: %v", err)
		}
	})
}
