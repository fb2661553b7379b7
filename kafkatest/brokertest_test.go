package kafkatest

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var validTopic = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

func TestTopic(t *testing.T) {
	a, b := Topic(t), Topic(t)
	if a == b {
		t.Fatalf("Topic returned %q twice", a)
	}
	for _, name := range []string{a, b} {
		if !validTopic.MatchString(name) {
			t.Fatalf("invalid topic name %q", name)
		}
	}
	t.Run("weird/name with spaces ünd ∆", func(t *testing.T) {
		if n := Topic(t); !validTopic.MatchString(n) {
			t.Fatalf("invalid topic name %q", n)
		}
	})
	long := topicName(strings.Repeat("x", 400), "-1-deadbeef")
	if len(long) != 249 || !validTopic.MatchString(long) || !strings.HasSuffix(long, "-1-deadbeef") {
		t.Fatalf("long name: len %d %q", len(long), long)
	}
}

func TestStartAndFail(t *testing.T) {
	c, addrs := StartCluster(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	topic := Topic(t)
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, 1, 1
	req.Topics = append(req.Topics, rt)
	if _, err := req.RequestWith(ctx, cl); err != nil {
		t.Fatal(err)
	}

	FailNext(t, c, kmsg.ListOffsets, topic, 1, kerr.TopicAuthorizationFailed)
	list := func() error {
		lreq := kmsg.NewPtrListOffsetsRequest()
		lt := kmsg.NewListOffsetsRequestTopic()
		lt.Topic = topic
		lp := kmsg.NewListOffsetsRequestTopicPartition()
		lp.Timestamp = -1
		lt.Partitions = append(lt.Partitions, lp)
		lreq.Topics = append(lreq.Topics, lt)
		resp, err := lreq.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		return kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode)
	}
	if err := list(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("first ListOffsets: got %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	if err := list(); err != nil {
		t.Fatalf("second ListOffsets: %v", err)
	}
}

func TestStartUsesEnv(t *testing.T) {
	t.Setenv(EnvBrokers, " a:1, b:2 ,")
	got := Start(t)
	if len(got) != 2 || got[0] != "a:1" || got[1] != "b:2" {
		t.Fatalf("Start with %s: %v", EnvBrokers, got)
	}
}

func TestDropConnections(t *testing.T) {
	c, addrs := StartCluster(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// kgo does not retry an EOF on the first request of a connection
	// (kgo.ErrFirstReadEOF: it blames TLS or SASL), so warm it up first.
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	dropped := DropConnections(t, c, kmsg.Metadata, 1)
	// kgo retries a request whose connection died: it still succeeds.
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if n := dropped(); n != 1 {
		t.Fatalf("dropped %d connections, want 1", n)
	}
}
