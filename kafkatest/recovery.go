package kafkatest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/faultnet"
	"github.com/ktables/ktables/transport"
)

// RunRecovery checks that an adapter recovers, with default settings, from
// what a long-running service meets (issue 16): its topic deleted and
// re-created, oversized values, partition leaders moving, a silent network
// partition, an address that answers but is not Kafka, a refused address,
// and topics with many partitions. Faults go through a faultnet proxy the
// brokers advertise ([StartProxied]). Each check is bounded to seconds.
func RunRecovery(t *testing.T, a Adapter) {
	t.Run("writer_after_topic_recreated", func(t *testing.T) { recreatedSameCount(t, a) })
	t.Run("writer_after_topic_recreated_with_fewer_partitions", func(t *testing.T) { recreatedFewer(t, a) })
	t.Run("oversized_value_is_fatal_record_too_large", func(t *testing.T) { oversized(t, a) })
	t.Run("writes_survive_leader_moves", func(t *testing.T) { leaderMoves(t, a) })
	t.Run("recovers_within_5s_after_silent_partition", func(t *testing.T) { silentPartition(t, a) })
	t.Run("not_kafka_address_backs_off", func(t *testing.T) { notKafka(t, a) })
	t.Run("refused_connection_reported_as_such", func(t *testing.T) { refused(t, a) })
	t.Run("open_many_partitions_honours_context", func(t *testing.T) { manyPartitions(t, a, manyPartitionsCount(a)) })
}

// EnvManyPartitions overrides the partition count of the many-partitions
// check (default 30,000; 10,000 under the race detector, which slows
// decoding metadata several times), for manual runs such as 100,000.
const EnvManyPartitions = "KTABLES_MANY_PARTITIONS"

func manyPartitionsCount(a Adapter) int32 {
	if n, err := strconv.ParseInt(os.Getenv(EnvManyPartitions), 10, 32); err == nil && n > 0 {
		return int32(n)
	}
	n := int32(30000)
	if a.ManyPartitions > 0 {
		n = a.ManyPartitions
	}
	if raceEnabled {
		n = min(n, 10000)
	}
	return n
}

// Issue 16 item 10: Open of a topic with many partitions honours its
// context, and opens an empty one in well under it.
func manyPartitions(t *testing.T, a Adapter, n int32) {
	c, seeds := StartCluster(t)
	topic := Topic(t)
	if err := c.CreateTopic(topic, n, nil); err != nil {
		t.Fatal(err)
	}
	tr := openTransport(t, a, seeds)
	const d = 5 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	tbl, err := ktables.Open(ctx, tr, topic, ktables.Bytes())
	el := time.Since(start)
	if err == nil {
		defer tbl.Close()
	}
	if el > d+500*time.Millisecond {
		t.Fatalf("Open of %d partitions took %v against a %v context (err %v)", n, el, d, err)
	}
	if err != nil {
		t.Fatalf("Open of %d empty partitions: %v after %v", n, err, el)
	}
	t.Logf("Open of %d partitions: %v", n, el)
}

func keyFor(p, n int32) string {
	for i := 0; ; i++ {
		if k := "k" + strconv.Itoa(i); transport.Partition([]byte(k), n) == p {
			return k
		}
	}
}

func openWriter(t *testing.T, ctx context.Context, tr transport.Transport, topic string, opts ...ktables.Option) *ktables.Writer[[]byte] {
	t.Helper()
	w, err := ktables.OpenWriter(ctx, tr, topic, ktables.Bytes(), opts...)
	if err != nil {
		t.Fatalf("OpenWriter: %v", err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// recreate deletes topic and creates it again with n partitions, on the
// broker directly (not through the transport under test).
func recreate(t *testing.T, c *kfake.Cluster, topic string, n int32) {
	t.Helper()
	if err := c.DeleteTopic(topic); err != nil {
		t.Fatalf("DeleteTopic: %v", err)
	}
	if err := c.CreateTopic(topic, n, nil); err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
}

// Issue 16 item 5 (SPEC W1): a writer, and a new writer on the same
// transport, write again after the topic is deleted and re-created with
// the same partition count (franz-go caches the old topic ID).
func recreatedSameCount(t *testing.T, a Adapter) {
	c, seeds := StartCluster(t)
	tr := openTransport(t, a, seeds)
	ctx := Ctx(t, 30*time.Second)
	topic := Topic(t)
	w := openWriter(t, ctx, tr, topic, ktables.WithPartitions(3))
	for i := range 3 {
		if err := w.Set(ctx, keyFor(int32(i), 3), []byte("before")); err != nil {
			t.Fatal(err)
		}
	}
	recreate(t, c, topic, 3)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for i := range 3 {
		if err := w.Set(wctx, keyFor(int32(i), 3), []byte("after")); err != nil {
			t.Fatalf("Set after re-create: %v", err)
		}
	}
	w2 := openWriter(t, wctx, tr, topic)
	if err := w2.Set(wctx, "new-writer", []byte("v")); err != nil {
		t.Fatalf("new writer on the same transport: %v", err)
	}
}

// Issue 16 item 6 (SPEC W0): after a re-create with fewer partitions a key
// of a vanished partition follows the new count.
func recreatedFewer(t *testing.T, a Adapter) {
	c, seeds := StartCluster(t)
	tr := openTransport(t, a, seeds)
	ctx := Ctx(t, 30*time.Second)
	topic := Topic(t)
	w := openWriter(t, ctx, tr, topic, ktables.WithPartitions(3))
	key := keyFor(2, 3)
	if err := w.Set(ctx, key, []byte("before")); err != nil {
		t.Fatal(err)
	}
	recreate(t, c, topic, 1)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := w.Set(wctx, key, []byte("after")); err != nil {
		t.Fatalf("Set after re-create with 1 partition: %v", err)
	}
	end, err := tr.EndOffsets(wctx, topic, []int32{0})
	if err != nil || end[0] != 1 {
		t.Fatalf("partition 0 end offset %v, %v; want the one write there", end, err)
	}
}

// Issue 16 item 7 (SPEC X6): a value above the broker's limit is fatal and
// matches ErrRecordTooLarge on every adapter.
func oversized(t *testing.T, a Adapter) {
	_, seeds := StartCluster(t)
	tr := openTransport(t, a, seeds)
	ctx := Ctx(t, 30*time.Second)
	topic := NewTopic(t, tr, 1, map[string]string{"max.message.bytes": "1000000"})
	_, err := tr.Produce(ctx, topic, transport.Record{Key: []byte("k"), Value: bytes.Repeat([]byte("x"), 2<<20)})
	if !errors.Is(err, transport.ErrRecordTooLarge) || !transport.IsFatal(err) {
		t.Fatalf("Produce of 2 MiB: %v, want fatal ErrRecordTooLarge", err)
	}
}

// Issue 16 item 8 (SPEC W1): with partition leaders shuffled every 300 ms
// across three brokers, no acknowledged-or-failed write fails: the adapter
// follows the leaders.
func leaderMoves(t *testing.T, a Adapter) {
	c, seeds := StartCluster(t, kfake.NumBrokers(3))
	tr := openTransport(t, a, seeds)
	ctx := Ctx(t, 60*time.Second)
	topic := Topic(t)
	w := openWriter(t, ctx, tr, topic, ktables.WithPartitions(6))
	// Writers keep going until the leaders moved often enough and at least
	// minWrites were made, so a fast adapter cannot finish between two
	// moves.
	const writers, minWrites, minMoves = 20, 2000, 8
	var moves, writes, failed atomic.Int64
	var firstErr atomic.Value
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				c.ShufflePartitionLeaders()
				moves.Add(1)
			}
		}
	})
	var writerWG sync.WaitGroup
	for g := range writers {
		writerWG.Go(func() {
			for i := 0; moves.Load() < minMoves || writes.Load() < minWrites; i++ {
				writes.Add(1)
				if err := w.Set(ctx, "w"+strconv.Itoa(g)+"-"+strconv.Itoa(i%50), []byte("v")); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
				if ctx.Err() != nil {
					return
				}
			}
		})
	}
	writerWG.Wait()
	close(done)
	wg.Wait()
	t.Logf("%d writes, %d failed, %d leader moves", writes.Load(), failed.Load(), moves.Load())
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d writes failed under leader moves; first: %v", n, writes.Load(), firstErr.Load())
	}
}

// Issue 16 item 9: after a 2 s silent network partition, writes, barriers
// and new data resume within 5 s of healing, with default settings, and
// no call outlives its caller's context meanwhile.
func silentPartition(t *testing.T, a Adapter) {
	_, n, seeds := StartProxied(t)
	ctx := Ctx(t, 60*time.Second)
	wtr := openTransport(t, a, seeds)
	rtr := openTransport(t, a, seeds)
	topic := NewTopic(t, wtr, 3, nil)
	w := openWriter(t, ctx, wtr, topic)
	tbl, err := ktables.Open(ctx, rtr, topic, ktables.Bytes())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = tbl.Close() })
	if err := w.Set(ctx, "before", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatal(err)
	}

	if err := n.Set(faultnet.Both, faultnet.Fault{Mode: faultnet.Partition}); err != nil {
		t.Fatal(err)
	}
	partitioned := time.Now()
	// During the partition, calls end with their context.
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	start := time.Now()
	err = w.Set(short, "during", []byte("v"))
	cancel()
	if el := time.Since(start); err == nil || el > 1500*time.Millisecond {
		t.Fatalf("Set during the partition: %v after %v, want the context's error within ~500ms", err, el)
	}
	short, cancel = context.WithTimeout(ctx, 500*time.Millisecond)
	start = time.Now()
	err = tbl.Barrier(short)
	cancel()
	if el := time.Since(start); err == nil || el > 1500*time.Millisecond {
		t.Fatalf("Barrier during the partition: %v after %v, want the context's error within ~500ms", err, el)
	}
	// The scenario: the partition lasts 2 s (a duration of the fault, not
	// a wait for something to happen).
	select {
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	case <-time.After(2*time.Second - time.Since(partitioned)):
	}
	if err := n.Heal(); err != nil {
		t.Fatal(err)
	}
	healed := time.Now()
	// As a service would, each call is tried again on a retriable error,
	// until the first success: that is when it resumed.
	resumed := func(what string, call func(context.Context) error) time.Duration {
		t.Helper()
		rctx, cancel := context.WithDeadline(ctx, healed.Add(5*time.Second))
		defer cancel()
		var errs []string
		for {
			err := call(rctx)
			if err == nil {
				return time.Since(healed)
			}
			errs = append(errs, err.Error())
			if rctx.Err() != nil || !transport.IsRetriable(err) {
				t.Fatalf("%s not resumed %v after healing; errors: %v", what, time.Since(healed), errs)
			}
		}
	}
	set := resumed("Set", func(ctx context.Context) error { return w.Set(ctx, "after", []byte("v")) })
	barrier := resumed("Barrier", tbl.Barrier)
	if _, ok := tbl.Get("after"); !ok {
		t.Fatalf("the write after healing is not in the table after the barrier")
	}
	t.Logf("after healing: write resumed in %v, barrier (and new data) in %v", set, barrier)
}

// notKafkaServer accepts connections and answers every byte with an HTTP
// error, as a web server on a mistyped port would; it counts connections.
func notKafkaServer(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Go(func() {
				defer c.Close()
				buf := make([]byte, 4096)
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Read(buf); err != nil {
					return
				}
				_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			})
		}
	})
	return ln.Addr().String(), &conns
}

// Issue 16 item 11: an address that answers but is not Kafka is retried
// with backoff (not hundreds of connections a second, a core at 100%), and
// calls end by their deadline with an error naming the cause.
func notKafka(t *testing.T, a Adapter) {
	addr, conns := notKafkaServer(t)
	tr, err := a.Open([]string{addr})
	if err != nil {
		return // refusing at construction is an answer too
	}
	t.Cleanup(func() { _ = tr.Close() })
	const d = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cpu0 := cpuTime()
	start := time.Now()
	_, err = tr.Partitions(ctx, "t")
	el := time.Since(start)
	if err == nil {
		t.Fatal("Partitions against a non-Kafka address succeeded")
	}
	if el > d+500*time.Millisecond {
		t.Errorf("Partitions took %v against a %v deadline", el, d)
	}
	if errors.Is(err, context.DeadlineExceeded) && err.Error() == context.DeadlineExceeded.Error() {
		t.Errorf("error %q does not say what went wrong", err)
	}
	// Then a table keeps trying for the rest of its Open deadline, as a
	// service whose configuration names the wrong port would.
	octx, ocancel := context.WithTimeout(context.Background(), d)
	defer ocancel()
	if tbl, err := ktables.Open(octx, tr, "t", ktables.Bytes()); err == nil {
		_ = tbl.Close()
		t.Fatal("Open against a non-Kafka address succeeded")
	}
	el = time.Since(start)
	cpu := cpuTime() - cpu0
	// Backoff gives a handful of attempts a second; a hot loop gives
	// hundreds, and a core's worth of CPU.
	if n := conns.Load(); n > 60 {
		t.Errorf("%d connections in %v: no backoff between attempts", n, el)
	}
	if cpu > el/2 {
		t.Errorf("%v of CPU in %v: spinning instead of backing off", cpu, el)
	}
	t.Logf("%d connections, %v CPU in %v; error: %v", conns.Load(), cpu, el, err)
}

// Issue 16 item 11: a refused connection is reported as such.
func refused(t *testing.T, a Adapter) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now: connections are refused
	tr, err := a.Open([]string{addr})
	if err != nil {
		return
	}
	t.Cleanup(func() { _ = tr.Close() })
	calls := map[string]func(context.Context) error{
		"Partitions": func(ctx context.Context) error { _, err := tr.Partitions(ctx, "t"); return err },
		"EndOffsets": func(ctx context.Context) error { _, err := tr.EndOffsets(ctx, "t", []int32{0}); return err },
		"Produce": func(ctx context.Context) error {
			_, err := tr.Produce(ctx, "t", transport.Record{Key: []byte("k"), Value: []byte("v")})
			return err
		},
		"CreateTopic": func(ctx context.Context) error {
			return tr.CreateTopic(ctx, transport.TopicSpec{Name: "t", Partitions: 1})
		},
	}
	for name, call := range calls {
		// A client that reports the refusal only once its deadline ends
		// (librdkafka's connection errors arrive as events) needs one
		// connection attempt to have failed by then, on a loaded machine too.
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		err := call(ctx)
		cancel()
		if err == nil {
			t.Fatalf("%s against a closed port succeeded", name)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) && !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("%s: error %q does not report the refused connection", name, err)
		}
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
