package kafkatest

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables/transport"
)

// WireWatch records what clients put on the wire of a kfake cluster: the
// InitProducerID requests (idempotent producers send one), the acks and the
// batch compression codec of every produce request, and the isolation level
// of every fetch. Adapter tests use it to prove their defaults (SPEC W4) and
// their durability options (SPEC W2) reach the broker.
type WireWatch struct {
	mu      sync.Mutex
	initPID int
	acks    []int16
	codecs  []int8 // record batch attributes & 0x07: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
	iso     []int8 // 0 read uncommitted, 1 read committed
}

// Watch starts recording c's requests. The broker still answers them.
func Watch(c *kfake.Cluster) *WireWatch {
	w := &WireWatch{}
	observe := func(key kmsg.Key, fn func(kmsg.Request)) {
		c.ControlKey(int16(key), func(req kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			w.mu.Lock()
			defer w.mu.Unlock()
			fn(req)
			return nil, nil, false
		})
	}
	observe(kmsg.InitProducerID, func(kmsg.Request) { w.initPID++ })
	observe(kmsg.Fetch, func(req kmsg.Request) {
		w.iso = append(w.iso, req.(*kmsg.FetchRequest).IsolationLevel)
	})
	observe(kmsg.Produce, func(req kmsg.Request) {
		r := req.(*kmsg.ProduceRequest)
		w.acks = append(w.acks, r.Acks)
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				var rb kmsg.RecordBatch
				if err := rb.ReadFrom(p.Records); err == nil {
					w.codecs = append(w.codecs, int8(rb.Attributes&0x07))
				}
			}
		}
	})
	return w
}

// StartWatched starts a private one-broker kfake cluster (closed when t
// ends) whose requests are recorded, and returns the watch and its seeds.
func StartWatched(t testing.TB) (*WireWatch, []string) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return Watch(c), c.ListenAddrs()
}

// InitProducerIDs is how many InitProducerID requests the broker saw.
func (w *WireWatch) InitProducerIDs() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.initPID
}

// Acks are the acks of every produce request, in order.
func (w *WireWatch) Acks() []int16 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int16(nil), w.acks...)
}

// Codecs are the compression codecs of every produced batch, in order.
func (w *WireWatch) Codecs() []int8 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int8(nil), w.codecs...)
}

// Isolation is the isolation level of every fetch request, in order.
func (w *WireWatch) Isolation() []int8 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int8(nil), w.iso...)
}

// ProduceCompressible creates topic (one partition) on tr and produces one
// value snappy would shrink a lot, so a compressing producer compresses it.
func ProduceCompressible(t testing.TB, tr transport.Transport, topic string) {
	t.Helper()
	ctx := Ctx(t, 20*time.Second)
	if err := tr.CreateTopic(ctx, transport.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	rec := transport.Record{Key: []byte("k"), Value: bytes.Repeat([]byte("ktables "), 4096)}
	if _, err := tr.Produce(ctx, topic, rec); err != nil {
		t.Fatal(err)
	}
}

// FetchOnce polls a fetch session of tr over topic until w saw a fetch.
func FetchOnce(t testing.TB, w *WireWatch, tr transport.Transport, topic string) {
	t.Helper()
	ctx := Ctx(t, 20*time.Second)
	f, err := tr.NewFetcher(ctx, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for len(w.Isolation()) == 0 {
		if _, err := f.Poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// checkDefaults proves SPEC W4 on the wire for a.Open's default settings:
// no InitProducerID (idempotence is opt-in), acks=all, uncompressed
// batches, and fetches that read uncommitted, the one isolation level of
// every adapter (ADR 8).
func checkDefaults(t *testing.T, a Adapter) {
	if External() != nil {
		t.Skip("W4 needs a private kfake cluster to watch requests; KTABLES_BROKERS is set")
	}
	w, seeds := StartWatched(t)
	tr := openTransport(t, a, seeds)
	ProduceCompressible(t, tr, "defaults")
	if n := w.InitProducerIDs(); n != 0 {
		t.Errorf("W4 the default producer sent %d InitProducerID requests; idempotence must be opt-in", n)
	}
	if acks := w.Acks(); len(acks) == 0 || acks[0] != -1 {
		t.Errorf("W4 default acks: %v, want -1 (all)", acks)
	}
	if codecs := w.Codecs(); len(codecs) == 0 || codecs[0] != 0 {
		t.Errorf("W4 default batch compression codec: %v, want 0 (none)", codecs)
	}
	FetchOnce(t, w, tr, "defaults")
	if iso := w.Isolation(); iso[0] != 0 {
		t.Errorf("W4 default isolation level %v, want 0 (read uncommitted)", iso)
	}
}
