package saramawire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	saramatransport "github.com/ktables/ktables/transport_sarama"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
)

// TestNewFromClientHonoursPartition: over a caller's client configured with
// sarama's default (FNV-1a hash) partitioner, the transport's producer still
// honours the explicit partition. (kafkatest.RunAdapterChecks checks saramatransport.New.)
func TestNewFromClientHonoursPartition(t *testing.T) {
	seeds := kafkatest.Start(t)
	tr := newT(t, seeds, nil)
	topic := kafkatest.NewTopic(t, tr, 3, nil)
	cfg := sarama.NewConfig()
	cfg.Producer.Partitioner = sarama.NewHashPartitioner
	cl, err := sarama.NewClient(seeds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tr2, err := saramatransport.NewFromClient(cl)
	if err != nil {
		t.Fatal(err)
	}
	defer tr2.Close()
	for _, p := range []int32{1, 1, 0} {
		kafkatest.Produce(t, tr2, topic, transport.Record{Key: []byte("same-key"), Value: []byte("y"), Partition: p})
	}
	ends, err := tr.EndOffsets(kafkatest.Ctx(t, 10*time.Second), topic, []int32{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int32]int64{0: 1, 1: 2, 2: 0}; fmt.Sprint(ends) != fmt.Sprint(want) {
		t.Fatalf("end offsets %v, want %v", ends, want)
	}
}

// TestConcurrentProduceBatched checks X4 for sarama: 64 goroutines producing
// at once are pipelined into shared produce requests, not serialized one
// request per record. (That their offsets are unique and increasing is the
// conformance case X4/concurrent_produce_offsets_unique_and_increasing.)
func TestConcurrentProduceBatched(t *testing.T) {
	c, seeds := kafkatest.StartCluster(t)
	tr := newT(t, seeds, nil)
	topic := kafkatest.NewTopic(t, tr, 1, nil)
	kafkatest.Produce(t, tr, topic, transport.Record{Key: []byte("warm"), Value: []byte("up")})
	reqs := kafkatest.Fail(t, c, kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Count: -1, Observe: true})
	const workers, each = 64, 20
	ctx := kafkatest.Ctx(t, 30*time.Second)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if _, err := tr.Produce(ctx, topic, transport.Record{Key: fmt.Appendf(nil, "w%d", w), Value: fmt.Appendf(nil, "%d", i)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	n := reqs.Hits()
	t.Logf("%d records from %d goroutines in %v, %d produce requests", workers*each, workers, time.Since(start), n)
	if n >= workers*each/4 {
		t.Errorf("%d produce requests for %d records: concurrent produces are not batched", n, workers*each)
	}
}

// TestBrokerSerializesLongPoll pins the sarama quirk of SPEC §12 that the
// adapter works around: a ListOffsets on the *sarama.Broker carrying a long
// poll waits for it, as sarama holds the broker's lock for the whole fetch.
// (That the transport's EndOffsets is not delayed is the conformance case
// X2/offsets_not_delayed_by_long_poll.)
func TestBrokerSerializesLongPoll(t *testing.T) {
	c, seeds := kafkatest.StartCluster(t)
	tr := newT(t, seeds, nil)
	topic := kafkatest.NewTopic(t, tr, 1, nil)
	kafkatest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})

	seen := kafkatest.Fail(t, c, kfake.Fault{Keys: []kmsg.Key{kmsg.Fetch}, Count: -1, Observe: true})
	const longPoll = 2 * time.Second
	ctx := kafkatest.Ctx(t, 20*time.Second)
	b := sarama.NewBroker(seeds[0])
	if err := b.Open(saramatransport.NewConfig()); err != nil { // the transport's own config (newT with nil)
		t.Fatal(err)
	}
	defer b.Close()
	pollDone := make(chan error, 1)
	go func() {
		req := &sarama.FetchRequest{Version: 11, MaxWaitTime: int32(longPoll / time.Millisecond), MinBytes: 1, MaxBytes: 1 << 20, SessionEpoch: -1}
		req.AddBlock(topic, 0, 1, 1<<20, -1)
		_, err := b.Fetch(req)
		pollDone <- err
	}()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := seen.Wait(wctx, 1); err != nil {
		t.Fatalf("no fetch reached the broker: %v", err)
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

func isKError(t *testing.T, err error, want sarama.KError) {
	t.Helper()
	var ke sarama.KError
	if !errors.As(err, &ke) || ke != want {
		t.Errorf("errors.As(sarama.KError) = %v, want %v (err %v)", ke, want, err)
	}
}

// TestNotLeader: NOT_LEADER_FOR_PARTITION on ListOffsets is reported
// retriable and the next call succeeds. (Error kinds and native codes are
// checked for every adapter by kafkatest.RunAdapterChecks.)
func TestNotLeader(t *testing.T) {
	c, seeds := kafkatest.StartCluster(t)
	tr := newT(t, seeds, nil)
	ctx := kafkatest.Ctx(t, 30*time.Second)

	topic := kafkatest.NewTopic(t, tr, 1, nil)

	t.Run("not leader is retriable", func(t *testing.T) {
		kafkatest.FailNext(t, c, kmsg.ListOffsets, topic, 1, kerr.NotLeaderForPartition)
		_, err := tr.EndOffsets(ctx, topic, []int32{0})
		if !errors.Is(err, transport.ErrNotLeader) || !transport.IsRetriable(err) {
			t.Fatalf("EndOffsets: %v", err)
		}
		isKError(t, err, sarama.ErrNotLeaderForPartition)
		if _, err := tr.EndOffsets(ctx, topic, []int32{0}); err != nil {
			t.Fatalf("after the fault: %v", err)
		}
	})
}

func TestCloseKeepsCallerClient(t *testing.T) {
	seeds := kafkatest.Start(t)
	cl, err := sarama.NewClient(seeds, saramatransport.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tr, err := saramatransport.NewFromClient(cl)
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
	topic := kafkatest.NewTopic(t, tr, 1, nil)
	kafkatest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
	f := kafkatest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{})
	kafkatest.PollUntil(t, f, 10*time.Second, kafkatest.Reached(map[int32]int64{0: 1}))
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
		_, err := saramatransport.New(seeds, cfg)
		if !errors.Is(err, transport.ErrInvalidConfig) || !bytes.Contains([]byte(err.Error()), []byte("Config.Version")) {
			t.Fatalf("saramatransport.New with Version 2.0: %v", err)
		}
		cl, err := sarama.NewClient(kafkatest.Start(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if _, err := saramatransport.NewFromClient(cl); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Fatalf("saramatransport.NewFromClient with Version 2.0: %v", err)
		}
	})
	t.Run("no seeds", func(t *testing.T) {
		if _, err := saramatransport.New(nil, nil); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Fatalf("saramatransport.New(nil): %v", err)
		}
	})
	t.Run("transactional id rejected", func(t *testing.T) {
		cfg := saramatransport.NewConfig()
		cfg.Producer.Idempotent = true
		cfg.Producer.Transaction.ID = "x"
		cfg.Net.MaxOpenRequests = 1
		if _, err := saramatransport.New(seeds, cfg); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Fatalf("saramatransport.New with Transaction.ID: %v", err)
		}
	})
	t.Run("invalid config", func(t *testing.T) {
		cfg := saramatransport.NewConfig()
		cfg.Producer.Idempotent = true // needs MaxOpenRequests 1 and acks all
		cfg.Net.MaxOpenRequests = 5
		if _, err := saramatransport.New(seeds, cfg); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Fatalf("saramatransport.New with an invalid idempotent config: %v", err)
		}
	})
	t.Run("idempotent producer works", func(t *testing.T) {
		cfg := saramatransport.NewConfig()
		cfg.Producer.Idempotent = true
		cfg.Net.MaxOpenRequests = 1
		tr := newT(t, kafkatest.Start(t), cfg)
		topic := kafkatest.NewTopic(t, tr, 1, nil)
		if off := kafkatest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")}); off != 0 {
			t.Fatalf("offset %d", off)
		}
	})
}

// TestTopicConfigLegacyAlter runs the shared topic config check with
// protocol version 2.1, where the adapter alters with the legacy
// AlterConfigs (read-modify-write). kafkatest.RunAdapterChecks runs it
// with saramatransport.DefaultVersion (incremental alter).
func TestTopicConfigLegacyAlter(t *testing.T) {
	cfg := saramatransport.NewConfig()
	cfg.Version = sarama.V2_1_0_0
	kafkatest.CheckTopicConfig(t, newT(t, kafkatest.Start(t), cfg))
}
