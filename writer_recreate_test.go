package ktables_test

import (
	"errors"
	"testing"

	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// keyOn returns a key that murmur2 puts on partition p of n.
// SPEC W0 (issue 16 item 6): after the topic is deleted and re-created with
// fewer partitions, a key that hashed to a vanished partition follows the
// new count instead of failing forever ("counts only grow").
func TestWriterFollowsRecreatedTopicWithFewerPartitions(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 3)
	w := openWriter(t, ctx, c.Transport(), topic)
	key := keyOn(t, 2, 3)
	if err := w.Set(ctx, key, []byte("before")); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteTopic(topic); err != nil {
		t.Fatal(err)
	}
	createTopic(t, c, topic, 1)
	if err := w.Set(ctx, key, []byte("after")); err != nil {
		t.Fatalf("W0 Set after re-create with 1 partition: %v", err)
	}
	recs, err := c.Records(topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || string(recs[0].Key) != key || string(recs[0].Value) != "after" {
		t.Fatalf("partition 0 holds %v, want the one write", recs)
	}
}

// A broker that refuses a partition the topic still has (a stale broker,
// not a re-created topic) is reported as a missing partition, not as an
// unknown topic.
func TestWriterReportsMissingPartitionOfExistingTopic(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 2)
	w := openWriter(t, ctx, c.Transport(), topic)
	c.FailNext(memtransport.OpProduce, -1, transport.NewError("produce", topic, transport.ErrUnknownTopic, nil))
	err := w.Set(ctx, "k", []byte("v"))
	if !errors.Is(err, transport.ErrUnknownPartition) || !errors.Is(err, transport.ErrUnknownTopic) {
		t.Fatalf("Set: %v, want ErrUnknownPartition wrapping the broker's unknown topic", err)
	}
}
