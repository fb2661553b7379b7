package ktables_test

import (
	"testing"
	"time"

	"github.com/ktables/ktables"
)

// SPEC L4: a partition added after open is read as soon as discovery finds
// it, not after the reader's long poll ends. The poll here never ends on
// its own within the test.
func TestNewPartitionsCutTheLongPollShort(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	tbl := openBytes(t, ctx, c.Transport(), topic,
		ktables.WithFetchMaxWait(time.Hour), ktables.WithPartitionRefresh(20*time.Millisecond))
	if err := c.CreatePartitions(topic, 3); err != nil {
		t.Fatal(err)
	}
	appendRec(t, c, topic, 2, []byte("on-p2"), []byte("x"))
	eventually(t, "a record on a new partition, with an hour-long poll in flight", func() bool { return tbl.Has("on-p2") })
	if n := tbl.Stats().Partitions; n != 3 {
		t.Fatalf("L4: Stats.Partitions = %d, want 3", n)
	}
	// Records on the partitions read from the start still end the poll.
	appendRec(t, c, topic, 0, []byte("on-p0"), []byte("y"))
	eventually(t, "a record on an old partition", func() bool { return tbl.Has("on-p0") })
}

// SPEC L5: Close does not wait for the long poll.
func TestCloseDoesNotWaitForTheLongPoll(t *testing.T) {
	noLeak(t)
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.WithFetchMaxWait(time.Hour))
	start := time.Now()
	if err := tbl.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Close took %v with an hour-long poll in flight", took)
	}
}

// A quiet table with a staleness bound is not stale: without
// WithFetchMaxWait its long poll is shortened to confirm the head several
// times per bound (SPEC T4).
func TestQuietTableWithStalenessBoundStaysFresh(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.WithMaxStaleness(400*time.Millisecond))
	// The default long poll (2 s) would leave the head unconfirmed for
	// longer than the bound; a quarter of it confirms it every 100 ms.
	first := tbl.Stats().HeadConfirmed
	eventually(t, "three more head confirmations", func() bool {
		return tbl.Stats().HeadConfirmed.Sub(first) >= 300*time.Millisecond
	})
	if tbl.Stale() {
		t.Fatal("T4: a quiet table with a 400 ms bound went stale")
	}
}
