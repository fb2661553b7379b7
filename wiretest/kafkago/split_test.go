package kafkagowire

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
)

// fetchLog records the partitions of every Fetch request the broker sees.
type fetchLog struct {
	mu   sync.Mutex
	reqs [][]int32
}

func watchFetches(c *kfake.Cluster) *fetchLog {
	l := &fetchLog{}
	c.ControlKey(int16(kmsg.Fetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		var ps []int32
		for _, t := range req.(*kmsg.FetchRequest).Topics {
			for _, p := range t.Partitions {
				ps = append(ps, p.Partition)
			}
		}
		slices.Sort(ps)
		l.mu.Lock()
		l.reqs = append(l.reqs, ps)
		l.mu.Unlock()
		return nil, nil, false
	})
	return l
}

func (l *fetchLog) snapshot() [][]int32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.reqs)
}

// TestCatchUpSpreadOverRequests: partitions the session's end offsets say
// have records waiting are fetched by several concurrent requests, not one
// holding them all (issue 17: one answer is assembled, read and decoded on
// one core), and every record arrives once, in order. Partitions at the
// head ride along with busy ones: their high watermarks come back at once,
// and no long poll holds the catch-up back.
func TestCatchUpSpreadOverRequests(t *testing.T) {
	c, seeds := kafkatest.StartCluster(t, kfake.NumBrokers(1))
	tr := newT(t, seeds)
	const parts, busy, perPart = 8, 6, 20
	topic := kafkatest.NewTopic(t, tr, parts, nil)
	ends := map[int32]int64{}
	from := map[int32]int64{}
	for p := range int32(parts) {
		from[p] = 0
		ends[p] = 0
		if p >= busy {
			continue // empty: at the head
		}
		for i := range perPart {
			kafkatest.Produce(t, tr, topic, transport.Record{Key: fmt.Appendf(nil, "k%d-%d", p, i), Value: []byte("v"), Partition: p})
		}
		ends[p] = perPart
	}
	log := watchFetches(c)
	f := kafkatest.NewFetcher(t, tr, topic, from, transport.FetchOptions{MaxWait: 5 * time.Second, Ends: ends})
	start := time.Now()
	var records []transport.Record
	hws := map[int32]int64{}
	reached := map[int32]int64{}
	for len(records) < busy*perPart {
		b, err := f.Poll(kafkatest.Ctx(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, b.Records...)
		maps.Copy(hws, b.HighWatermarks)
		maps.Copy(reached, b.Next)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the catch-up took %v: it waited for the idle partitions' 5 s long poll", d)
	}
	if len(records) != busy*perPart {
		t.Fatalf("%d records, want %d", len(records), busy*perPart)
	}
	for p := range int32(parts) {
		if hw, ok := hws[p]; !ok || hw != ends[p] {
			t.Fatalf("partition %d: high watermarks reported %v, want %d: an idle partition's answer was cut short", p, hws, ends[p])
		}
		if p < busy && reached[p] != perPart {
			t.Fatalf("positions %v", reached)
		}
	}
	next := map[int32]int64{}
	for _, r := range records {
		if r.Offset != next[r.Partition] {
			t.Fatalf("partition %d: offset %d after %d", r.Partition, r.Offset, next[r.Partition])
		}
		next[r.Partition]++
	}
	reqs := log.snapshot()
	var first [][]int32 // the requests before any partition is fetched twice
	seen := map[int32]bool{}
	for _, ps := range reqs {
		if slices.ContainsFunc(ps, func(p int32) bool { return seen[p] }) {
			break
		}
		for _, p := range ps {
			seen[p] = true
		}
		first = append(first, ps)
	}
	if len(seen) != parts {
		t.Fatalf("first requests %v do not cover the %d partitions", first, parts)
	}
	for _, ps := range first {
		if !slices.ContainsFunc(ps, func(p int32) bool { return p < busy }) {
			t.Fatalf("first requests %v: the idle partitions long-poll on their own", first)
		}
		if len(ps) >= busy && ps[0] < busy {
			t.Fatalf("first requests %v: the busy partitions went in one request", first)
		}
	}
}

// TestAnswersHandedOverAsTheyArrive: a Poll hands over the answers in so
// far, not waiting for a slow one, which the next Poll hands over once it
// is in: the core applies one answer while another is still on its way.
func TestAnswersHandedOverAsTheyArrive(t *testing.T) {
	c, seeds := kafkatest.StartCluster(t, kfake.NumBrokers(1))
	tr := newT(t, seeds)
	topic := kafkatest.NewTopic(t, tr, 2, nil)
	for p := range int32(2) {
		kafkatest.Produce(t, tr, topic, transport.Record{Key: fmt.Appendf(nil, "k%d", p), Value: []byte("v"), Partition: p})
	}
	release := make(chan struct{})
	var once sync.Once
	c.ControlKey(int16(kmsg.Fetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		for _, rt := range req.(*kmsg.FetchRequest).Topics {
			for _, rp := range rt.Partitions {
				if rp.Partition == 1 {
					once.Do(func() { c.SleepControl(func() { <-release }) })
				}
			}
		}
		return nil, nil, false
	})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	ends := map[int32]int64{0: 1, 1: 1}
	f := kafkatest.NewFetcher(t, tr, topic, map[int32]int64{0: 0, 1: 0}, transport.FetchOptions{MaxWait: 5 * time.Second, Ends: ends})
	start := time.Now()
	b, err := f.Poll(kafkatest.Ctx(t, 10*time.Second))
	if err != nil {
		t.Fatalf("first Poll, partition 1's answer held back: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("first Poll took %v: it waited for the answer held back", d)
	}
	if len(b.Records) != 1 || b.Records[0].Partition != 0 {
		t.Fatalf("first Poll handed over %v; want partition 0's record alone", b.Records)
	}
	close(release)
	got := kafkatest.PollUntil(t, f, 10*time.Second, kafkatest.Reached(map[int32]int64{1: 1}))
	if len(got.Records) != 1 || got.Records[0].Partition != 1 {
		t.Fatalf("then %v; want partition 1's record", got.Records)
	}
}
