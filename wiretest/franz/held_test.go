package franzwire

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
)

// TestFetchAheadWhileHandingOver: a fetch answer holding more records than
// one Poll hands over is taken from kgo whole, so kgo sends its next fetch
// while the core applies the first batch, not once the core has drained
// the answer (issue 17: the broker sat idle through every catch-up batch
// of a 16-partition topic). Every record still arrives once, in order, in
// batches no larger than the cap.
func TestFetchAheadWhileHandingOver(t *testing.T) {
	c, seeds := kafkatest.StartCluster(t, kfake.NumBrokers(1))
	tr := newT(t, seeds)
	const parts, perPart = 4, 5000 // 20k records: more than one Poll's cap
	topic := kafkatest.NewTopic(t, tr, parts, nil)
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchMaxBytes(4<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	from, want := map[int32]int64{}, map[int32]int64{}
	for p := range int32(parts) {
		from[p], want[p] = 0, perPart
		for i := range perPart {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Key: fmt.Appendf(nil, "k%d-%d", p, i), Value: []byte("v")})
		}
	}
	if err := cl.ProduceSync(kafkatest.Ctx(t, 20*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	asked := map[int32]int64{} // the furthest offset a fetch asked for, per partition
	c.ControlKey(int16(kmsg.Fetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		mu.Lock()
		defer mu.Unlock()
		for _, rt := range req.(*kmsg.FetchRequest).Topics {
			for _, rp := range rt.Partitions {
				asked[rp.Partition] = max(asked[rp.Partition], rp.FetchOffset)
			}
		}
		return nil, nil, false
	})
	// aheadOf reports whether a fetch asked for records past those
	// handed over, of a partition the first Poll did not finish.
	aheadOf := func(b transport.Batch) bool {
		mu.Lock()
		defer mu.Unlock()
		for p := range int32(parts) {
			if b.Next[p] < perPart && asked[p] > b.Next[p] {
				return true
			}
		}
		return false
	}
	f := kafkatest.NewFetcher(t, tr, topic, from, transport.FetchOptions{MaxWait: 5 * time.Second})
	b, err := f.Poll(kafkatest.Ctx(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(b.Records); n == 0 || n > 8192 {
		t.Fatalf("first Poll handed over %d records; want some, at most 8192", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !aheadOf(b) {
		if time.Now().After(deadline) {
			t.Fatalf("no fetch after the first Poll took %d records: kgo waits for its buffered fetch to be drained", len(b.Records))
		}
		time.Sleep(time.Millisecond) // polling a counter, with a deadline
	}
	rest := map[int32]int64{} // the partitions the first Poll did not finish
	for p, n := range want {
		if b.Next[p] < n {
			rest[p] = n
		}
	}
	got := kafkatest.PollUntil(t, f, 20*time.Second, kafkatest.Reached(rest))
	next := map[int32]int64{}
	for _, r := range append(b.Records, got.Records...) {
		if r.Offset != next[r.Partition] {
			t.Fatalf("partition %d: offset %d after %d", r.Partition, r.Offset, next[r.Partition])
		}
		next[r.Partition]++
	}
	for p, n := range want {
		if next[p] != n {
			t.Fatalf("partition %d: %d records, want %d", p, next[p], n)
		}
	}
}
