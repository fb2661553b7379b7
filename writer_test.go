package ktables_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// SPEC P1: the writer chooses the Java murmur2 partition.
func TestWriterPartitionsByMurmur2(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	w := openWriter(t, ctx, c.Transport(), topic, ktables.WithPartitions(16))
	keys := []string{"21", "foobar", "a-little-bit-long-string", "abc", "service/billing"}
	for i := range 100 {
		keys = append(keys, "key-"+strconv.Itoa(i))
	}
	for _, k := range keys {
		if err := w.Set(ctx, k, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	for p := int32(0); p < 16; p++ {
		recs, err := c.Records(topic, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if want := transport.Partition(r.Key, 16); want != p {
				t.Errorf("P1 key %q on partition %d, murmur2 says %d", r.Key, p, want)
			}
		}
	}
}

// SPEC W0: the writer learns a grown partition count.
func TestWriterRefreshesPartitionCount(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	w := openWriter(t, ctx, c.Transport(), topic, ktables.WithPartitionRefresh(time.Millisecond))
	if err := c.CreatePartitions(topic, 8); err != nil {
		t.Fatal(err)
	}
	key := "k"
	for i := 0; transport.Partition([]byte(key), 8) == 0; i++ {
		key = "k" + strconv.Itoa(i)
	}
	p := transport.Partition([]byte(key), 8)
	eventually(t, "a write on a new partition", func() bool {
		if err := w.Set(ctx, key, []byte("v")); err != nil {
			t.Fatal(err)
		}
		hw, _ := c.HighWatermark(topic, p)
		return hw > 0
	})
}

// SPEC W1, R1: Set of an empty or nil []byte sends data, never a tombstone;
// Delete sends a nil value.
func TestWriterNilAndEmpty(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	w := openWriter(t, ctx, c.Transport(), topic)
	if err := w.Set(ctx, "nil", nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Set(ctx, "empty", []byte{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	recs, _ := c.Records(topic, 0)
	if len(recs) != 3 || recs[0].Value == nil || recs[1].Value == nil || recs[2].Value != nil {
		t.Fatalf("R1 values on the wire: %#v", recs)
	}
}

// SPEC W3: an encode error is returned and nothing is sent.
func TestWriterEncodeError(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	w, err := ktables.OpenWriter(ctx, c.Transport(), topic, ktables.JSON[any]())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	err = w.Set(ctx, "k", make(chan int))
	if !errors.Is(err, ktables.ErrEncode) {
		t.Fatalf("W3 %v", err)
	}
	if hw, _ := c.HighWatermark(topic, 0); hw != 0 {
		t.Fatal("W3 something was sent")
	}
}

// SPEC W1: transient produce errors are retried; fatal ones returned with
// their sentinel.
func TestWriterErrors(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	w := openWriter(t, ctx, c.Transport(), topic, ktables.WithRetryBackoff(time.Millisecond, time.Millisecond), ktables.WithWriteRetries(3))
	c.FailNext(memtransport.OpProduce, 3, transport.NewError("produce", topic, transport.ErrNotLeader, nil))
	if err := w.Set(ctx, "a", []byte("1")); err != nil {
		t.Fatalf("W1 transient errors not retried: %v", err)
	}
	c.FailNext(memtransport.OpProduce, 4, transport.NewError("produce", topic, transport.ErrNotLeader, nil))
	if err := w.Set(ctx, "a", []byte("1")); !errors.Is(err, transport.ErrNotLeader) {
		t.Fatalf("W1 retries exhausted: %v", err)
	}
	c.ClearFaults()
	c.FailNext(memtransport.OpProduce, 1, transport.NewError("produce", topic, transport.ErrAuthorization, nil))
	before := c.Calls(memtransport.OpProduce)
	if err := w.Set(ctx, "a", []byte("1")); !errors.Is(err, transport.ErrAuthorization) {
		t.Fatalf("W1 fatal: %v", err)
	}
	if c.Calls(memtransport.OpProduce)-before != 1 {
		t.Fatal("W1 fatal error was retried")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := w.Set(cctx, "a", []byte("1")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Set: %v", err)
	}
}

// SPEC W1: concurrent writes are pipelined, not serialized: 64 writes with
// 50 ms of broker latency each finish in about 50 ms, not 3.2 s.
func TestWriterPipelines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := memtransport.NewCluster()
		defer c.Close()
		ctx := context.Background()
		w, err := ktables.OpenWriter(ctx, c.Transport(), "t", ktables.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		c.SetLatency(memtransport.OpProduce, 50*time.Millisecond)
		start := time.Now()
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := w.Set(ctx, strconv.Itoa(i), []byte("v")); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if d := time.Since(start); d != 50*time.Millisecond {
			t.Fatalf("W1 64 concurrent writes took %v (fake time), want 50ms", d)
		}
	})
}
