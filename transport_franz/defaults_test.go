package franztransport

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables/transport"
)

// produceWatch records, on a kfake cluster, the InitProducerID requests and
// the acks and batch compression of every produce request.
type produceWatch struct {
	mu      sync.Mutex
	initPID int
	acks    []int16
	codecs  []int8 // record batch attributes & 0x07: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
	iso     []int8 // fetch request isolation levels: 0 read uncommitted, 1 read committed
}

func watchProduce(c *kfake.Cluster) *produceWatch {
	w := &produceWatch{}
	c.ControlKey(int16(kmsg.InitProducerID), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		w.mu.Lock()
		w.initPID++
		w.mu.Unlock()
		return nil, nil, false
	})
	c.ControlKey(int16(kmsg.Fetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		w.mu.Lock()
		w.iso = append(w.iso, req.(*kmsg.FetchRequest).IsolationLevel)
		w.mu.Unlock()
		return nil, nil, false
	})
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		r := req.(*kmsg.ProduceRequest)
		w.mu.Lock()
		defer w.mu.Unlock()
		w.acks = append(w.acks, r.Acks)
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				var rb kmsg.RecordBatch
				if err := rb.ReadFrom(p.Records); err == nil {
					w.codecs = append(w.codecs, int8(rb.Attributes&0x07))
				}
			}
		}
		return nil, nil, false
	})
	return w
}

func (w *produceWatch) isolation() []int8 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int8(nil), w.iso...)
}

func (w *produceWatch) get() (initPID int, acks []int16, codecs []int8) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.initPID, append([]int16(nil), w.acks...), append([]int8(nil), w.codecs...)
}

func startWatched(t *testing.T) (*produceWatch, []string) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return watchProduce(c), c.ListenAddrs()
}

// produceCompressible creates a topic and produces a value snappy would
// shrink a lot, so a compressing producer would compress it.
func produceCompressible(t *testing.T, tr transport.Transport) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tr.CreateTopic(ctx, transport.TopicSpec{Name: "defaults", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	rec := transport.Record{Key: []byte("k"), Value: bytes.Repeat([]byte("ktables "), 4096)}
	if _, err := tr.Produce(ctx, "defaults", rec); err != nil {
		t.Fatal(err)
	}
}

// fetchOnce polls a fetch session of tr until the broker saw a fetch.
func fetchOnce(t *testing.T, w *produceWatch, tr transport.Transport) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f, err := tr.NewFetcher(ctx, "defaults", map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for len(w.isolation()) == 0 {
		if _, err := f.Poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// SPEC W4 (issue 15 items 14, 15): by default New's producer is not
// idempotent (no InitProducerID on the wire), waits for acks=all and sends
// uncompressed batches, where kgo's defaults are idempotent and snappy.
func TestDefaultsW4NoIdempotenceNoCompression(t *testing.T) {
	w, seeds := startWatched(t)
	produceCompressible(t, newT(t, seeds))
	initPID, acks, codecs := w.get()
	if initPID != 0 {
		t.Errorf("W4 the default producer sent %d InitProducerID requests; idempotence must be opt-in", initPID)
	}
	if len(acks) == 0 || acks[0] != -1 {
		t.Errorf("W4 default acks: %v, want -1 (all)", acks)
	}
	if len(codecs) == 0 || codecs[0] != 0 {
		t.Errorf("W4 default batch compression codec: %v, want 0 (none)", codecs)
	}
}

// SPEC W4 (issue 15 item 16): fetch sessions read uncommitted by default,
// the isolation of every adapter and of the Python library (ADR 8).
func TestDefaultsW4ReadUncommitted(t *testing.T) {
	w, seeds := startWatched(t)
	tr := newT(t, seeds)
	produceCompressible(t, tr)
	fetchOnce(t, w, tr)
	if iso := w.isolation(); iso[0] != 0 {
		t.Errorf("W4 default isolation level %v, want 0 (read uncommitted)", iso)
	}
}

// SPEC W2: the portable durability options reach the wire: idempotence when
// asked for, leader acks; the caller's native compression still wins.
func TestDefaultsW2Durability(t *testing.T) {
	t.Run("idempotent", func(t *testing.T) {
		w, seeds := startWatched(t)
		opts, err := Durability(transport.Durability{Idempotent: true})
		if err != nil {
			t.Fatal(err)
		}
		produceCompressible(t, newT(t, seeds, opts...))
		if initPID, acks, _ := w.get(); initPID == 0 || len(acks) == 0 || acks[0] != -1 {
			t.Errorf("W2 idempotent producer: %d InitProducerID, acks %v", initPID, acks)
		}
	})
	t.Run("leader acks and native compression", func(t *testing.T) {
		w, seeds := startWatched(t)
		opts, err := Durability(transport.Durability{Acks: transport.AcksLeader})
		if err != nil {
			t.Fatal(err)
		}
		produceCompressible(t, newT(t, seeds, append(opts, kgo.ProducerBatchCompression(kgo.SnappyCompression()))...))
		initPID, acks, codecs := w.get()
		if initPID != 0 || len(acks) == 0 || acks[0] != 1 {
			t.Errorf("W2 leader acks: %d InitProducerID, acks %v", initPID, acks)
		}
		if len(codecs) == 0 || codecs[0] != 2 {
			t.Errorf("W4 opted-in snappy: codecs %v", codecs)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		if _, err := Durability(transport.Durability{Acks: transport.AcksLeader, Idempotent: true}); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Errorf("W2 idempotence without acks=all: %v", err)
		}
	})
}
