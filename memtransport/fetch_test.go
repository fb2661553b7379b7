package memtransport_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

func TestFetchBasic(t *testing.T) {
	tr, topic := setup(t, 2)
	produce(t, tr, topic, 0, "a", "1")
	produce(t, tr, topic, 1, "b", "2")
	produce(t, tr, topic, 0, "c", "3")
	f := newFetcher(t, tr, topic, map[int32]int64{0: 0, 1: 0}, time.Millisecond)
	b := poll(t, f)
	got := map[int32][]string{}
	for _, r := range b.Records {
		got[r.Partition] = append(got[r.Partition], fmt.Sprintf("%d:%s=%s", r.Offset, r.Key, r.Value))
	}
	want := map[int32][]string{0: {"0:a=1", "1:c=3"}, 1: {"0:b=2"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	if !maps.Equal(b.Next, map[int32]int64{0: 2, 1: 1}) {
		t.Fatalf("Next %v", b.Next)
	}
	// Caught up: the next poll waits MaxWait and returns nothing.
	if b := poll(t, f); len(b.Records) != 0 || len(b.Next) != 0 {
		t.Fatalf("caught-up poll returned %v", b)
	}
}

// A long log comes in bounded batches, in offset order, without loss.
func TestFetchBatches(t *testing.T) {
	tr, topic := setup(t, 1, memtransport.WithMaxPollRecords(100))
	c := tr.Cluster()
	for i := range 1050 {
		c.Append(topic, transport.Record{Key: []byte("k"), Value: fmt.Appendf(nil, "%d", i)})
	}
	f := newFetcher(t, tr, topic, map[int32]int64{0: 0}, time.Millisecond)
	var next int64
	for polls := 0; next < 1050; polls++ {
		b := poll(t, f)
		if len(b.Records) > 100 {
			t.Fatalf("batch of %d records, cap 100", len(b.Records))
		}
		for _, r := range b.Records {
			if r.Offset != next {
				t.Fatalf("offset %d, want %d", r.Offset, next)
			}
			next++
		}
		if b.Next[0] != next {
			t.Fatalf("Next %d, want %d", b.Next[0], next)
		}
		if polls > 11 {
			t.Fatal("too many polls")
		}
	}
}

// MaxBytes bounds a batch, but one record always comes, however large.
func TestFetchMaxBytes(t *testing.T) {
	tr, topic := setup(t, 1)
	for range 10 {
		tr.Cluster().Append(topic, transport.Record{Value: make([]byte, 100)})
	}
	f, err := tr.NewFetcher(context.Background(), topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxBytes: 250})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if b := poll(t, f); len(b.Records) != 2 || b.Next[0] != 2 {
		t.Fatalf("got %d records, Next %v; want 2, 2", len(b.Records), b.Next)
	}
	f.Assign(map[int32]int64{0: 0})
	f2, _ := tr.NewFetcher(context.Background(), topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxBytes: 1})
	defer f2.Close()
	if b := poll(t, f2); len(b.Records) != 1 {
		t.Fatalf("got %d records, want 1", len(b.Records))
	}
}

// A busy partition does not starve the others when batches are capped.
func TestFetchFairness(t *testing.T) {
	tr, topic := setup(t, 2, memtransport.WithMaxPollRecords(10))
	for range 100 {
		tr.Cluster().Append(topic, transport.Record{Partition: 0, Value: []byte("x")})
	}
	tr.Cluster().Append(topic, transport.Record{Partition: 1, Value: []byte("y")})
	f := newFetcher(t, tr, topic, map[int32]int64{0: 0, 1: 0}, time.Millisecond)
	for range 2 {
		if b := poll(t, f); b.Next[1] == 1 {
			return
		}
	}
	t.Fatal("partition 1 not served within two polls")
}

// SPEC R4: positions move past holes and control markers, also when only
// they remain.
func TestFetchGapsAndControlMarkers(t *testing.T) {
	tr, topic := setup(t, 1)
	c := tr.Cluster()
	produce(t, tr, topic, 0, "a", "1") // 0
	c.SkipOffsets(topic, 0, 3)         // 1..3
	produce(t, tr, topic, 0, "b", "2") // 4
	if off, _ := c.AppendControl(topic, 0); off != 5 {
		t.Fatalf("control marker at %d, want 5", off)
	}
	produce(t, tr, topic, 0, "c", "3") // 6
	c.AppendControl(topic, 0)          // 7
	c.SkipOffsets(topic, 0, 2)         // 8..9
	f := newFetcher(t, tr, topic, map[int32]int64{0: 0}, time.Millisecond)
	b := poll(t, f)
	if got := offsets(b); !slices.Equal(got, []int64{0, 4, 6}) {
		t.Fatalf("offsets %v, want [0 4 6]", got)
	}
	if b.Next[0] != 10 {
		t.Fatalf("Next %v, want 10 (past the trailing marker and hole)", b.Next)
	}
	if hw, _ := c.HighWatermark(topic, 0); hw != 10 {
		t.Fatalf("high watermark %d", hw)
	}

	// Only a control marker arrives: Next still advances.
	c.AppendControl(topic, 0)
	b = poll(t, f)
	if len(b.Records) != 0 || b.Next[0] != 11 {
		t.Fatalf("after a lone marker: %v, want Next 11 and no records", b)
	}
	// Only a hole arrives.
	c.SkipOffsets(topic, 0, 5)
	if b := poll(t, f); len(b.Records) != 0 || b.Next[0] != 16 {
		t.Fatalf("after a lone hole: %v", b)
	}
	// Starting inside a hole.
	f2 := newFetcher(t, tr, topic, map[int32]int64{0: 2}, time.Millisecond)
	if b := poll(t, f2); !slices.Equal(offsets(b), []int64{4, 6}) || b.Next[0] != 16 {
		t.Fatalf("from inside a hole: %v", b)
	}
}

// SPEC X3, R5: a position below the log start is reported out of range,
// with the partition, and stays put until Assign moves it.
func TestFetchBelowLogStart(t *testing.T) {
	tr, topic := setup(t, 2)
	for i := range 5 {
		produce(t, tr, topic, 0, fmt.Sprint(i), "v")
	}
	produce(t, tr, topic, 1, "other", "v")
	if err := tr.Cluster().DeleteRecordsBefore(topic, 0, 3); err != nil {
		t.Fatal(err)
	}
	f := newFetcher(t, tr, topic, map[int32]int64{0: 0, 1: 0}, time.Millisecond)
	b, err := f.Poll(context.Background())
	wantOutOfRange(t, err, 0)
	// The other partition's records come with the error, not after it.
	if !slices.Equal(offsets(b), []int64{0}) || b.Records[0].Partition != 1 || b.Next[1] != 1 {
		t.Fatalf("records with the error: %v", b)
	}
	if _, moved := b.Next[0]; moved {
		t.Fatalf("out-of-range position moved silently: %v", b.Next)
	}
	if !maps.Equal(b.HighWatermarks, map[int32]int64{0: 5, 1: 1}) {
		t.Fatalf("high watermarks %v, want 0:5 1:1", b.HighWatermarks)
	}
	// Reported again until moved.
	_, err = f.Poll(context.Background())
	wantOutOfRange(t, err, 0)
	if err := f.Assign(map[int32]int64{0: 3}); err != nil {
		t.Fatal(err)
	}
	if b := poll(t, f); !slices.Equal(offsets(b), []int64{3, 4}) || b.Next[0] != 5 {
		t.Fatalf("after Assign: %v", b)
	}
	// Negative positions are invalid, as on the real adapters.
	_, err = tr.NewFetcher(context.Background(), topic, map[int32]int64{0: -2}, transport.FetchOptions{})
	wantKind(t, err, transport.ErrInvalidRequest, false)
}

// SPEC X3: a position above the high watermark is out of range too, as
// Kafka answers it.
func TestFetchAboveHighWatermark(t *testing.T) {
	tr, topic := setup(t, 1)
	produce(t, tr, topic, 0, "k", "v")
	f := newFetcher(t, tr, topic, map[int32]int64{0: 5}, time.Millisecond)
	b, err := f.Poll(context.Background())
	wantOutOfRange(t, err, 0)
	if !b.Empty() {
		t.Fatalf("got %v with the error, want nothing", b)
	}
}

func wantOutOfRange(t *testing.T, err error, parts ...int32) {
	t.Helper()
	wantKind(t, err, transport.ErrOffsetOutOfRange, true)
	te, ok := errors.AsType[*transport.Error](err)
	if !ok || !slices.Equal(te.Partitions, parts) {
		t.Fatalf("error %v names partitions %v, want %v", err, te.Partitions, parts)
	}
}

func TestFetcherErrors(t *testing.T) {
	tr, topic := setup(t, 2)
	ctx := context.Background()
	_, err := tr.NewFetcher(ctx, "missing", nil, transport.FetchOptions{})
	wantKind(t, err, transport.ErrUnknownTopic, false)
	_, err = tr.NewFetcher(ctx, topic, map[int32]int64{2: 0}, transport.FetchOptions{})
	wantKind(t, err, transport.ErrUnknownPartition, true)
	f := newFetcher(t, tr, topic, nil, time.Millisecond)
	wantKind(t, f.Assign(map[int32]int64{5: 0}), transport.ErrUnknownPartition, true)

	// Deleting the topic fails the fetcher, also after re-creation.
	if err := tr.Cluster().DeleteTopic(topic); err != nil {
		t.Fatal(err)
	}
	tr.CreateTopic(ctx, transport.TopicSpec{Name: topic})
	_, err = f.Poll(ctx)
	wantKind(t, err, transport.ErrUnknownTopic, false)
}

func TestFetchNewPartitions(t *testing.T) {
	tr, topic := setup(t, 1)
	f := newFetcher(t, tr, topic, map[int32]int64{0: 0}, time.Millisecond)
	if err := tr.CreatePartitions(context.Background(), topic, 3); err != nil {
		t.Fatal(err)
	}
	produce(t, tr, topic, 2, "k", "v")
	if err := f.Assign(map[int32]int64{1: 0, 2: 0}); err != nil {
		t.Fatal(err)
	}
	if b := poll(t, f); len(b.Records) != 1 || b.Records[0].Partition != 2 || !maps.Equal(b.Next, map[int32]int64{2: 1}) {
		t.Fatalf("got %v", b)
	}
	ps, _ := tr.Partitions(context.Background(), topic)
	if !slices.Equal(ps, []int32{0, 1, 2}) {
		t.Fatalf("partitions %v", ps)
	}
	err := tr.CreatePartitions(context.Background(), topic, 3)
	wantKind(t, err, transport.ErrInvalidRequest, false)
}

// An idle Poll returns empty after MaxWait, not before.
func TestLongPollTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, topic := setup(t, 1)
		f := newFetcher(t, tr, topic, map[int32]int64{0: 0}, 0) // cluster default: 500 ms
		start := time.Now()
		b := poll(t, f)
		if len(b.Records) != 0 || len(b.Next) != 0 {
			t.Fatalf("got %v", b)
		}
		if waited := time.Since(start); waited != 500*time.Millisecond {
			t.Fatalf("waited %v, want 500ms", waited)
		}
	})
}

func TestLongPollClusterDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, topic := setup(t, 1, memtransport.WithDefaultFetchWait(2*time.Second))
		f := newFetcher(t, tr, topic, map[int32]int64{0: 0}, 0)
		start := time.Now()
		poll(t, f)
		if waited := time.Since(start); waited != 2*time.Second {
			t.Fatalf("waited %v, want 2s", waited)
		}
	})
}

// A produce wakes a waiting Poll at once.
func TestLongPollWakesOnProduce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, topic := setup(t, 2)
		f := newFetcher(t, tr, topic, map[int32]int64{0: 0, 1: 0}, time.Hour)
		done := pollAsync(context.Background(), f)
		synctest.Wait() // Poll is now blocked
		start := time.Now()
		produce(t, tr, topic, 1, "k", "v")
		r := <-done
		if r.err != nil || len(r.b.Records) != 1 || r.b.Next[1] != 1 {
			t.Fatalf("got %v, %v", r.b, r.err)
		}
		if time.Since(start) != 0 {
			t.Fatalf("woke after %v", time.Since(start))
		}
	})
}

// Produces elsewhere (other topics, partitions not assigned) wake nothing
// useful: the Poll keeps waiting until its deadline.
func TestLongPollIgnoresOtherPartitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, topic := setup(t, 2)
		f := newFetcher(t, tr, topic, map[int32]int64{0: 0}, time.Second)
		done := pollAsync(context.Background(), f)
		synctest.Wait()
		produce(t, tr, topic, 1, "k", "v")
		time.Sleep(999 * time.Millisecond)
		synctest.Wait()
		select {
		case r := <-done:
			t.Fatalf("returned early with %v", r.b)
		default:
		}
		if r := <-done; r.err != nil || len(r.b.Records) != 0 {
			t.Fatalf("got %v, %v", r.b, r.err)
		}
	})
}

func TestPollHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, topic := setup(t, 1)
		f := newFetcher(t, tr, topic, map[int32]int64{0: 0}, time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			_, err := f.Poll(ctx)
			done <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-done; err != context.Canceled {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		dctx, cancel2 := context.WithTimeout(context.Background(), time.Second)
		defer cancel2()
		start := time.Now()
		if _, err := f.Poll(dctx); err != context.DeadlineExceeded {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
		if time.Since(start) != time.Second {
			t.Fatalf("returned after %v", time.Since(start))
		}
	})
}

// Assign while Poll waits: the Poll wakes and serves the new partition.
func TestAssignDuringPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, topic := setup(t, 2)
		produce(t, tr, topic, 1, "k", "v")
		f := newFetcher(t, tr, topic, nil, time.Hour)
		done := pollAsync(context.Background(), f)
		synctest.Wait()
		if err := f.Assign(map[int32]int64{1: 0}); err != nil {
			t.Fatal(err)
		}
		if r := <-done; r.err != nil || len(r.b.Records) != 1 || r.b.Next[1] != 1 {
			t.Fatalf("got %v, %v", r.b, r.err)
		}
		// Moving a partition back re-delivers.
		f.Assign(map[int32]int64{1: 0})
		if b := poll(t, f); len(b.Records) != 1 {
			t.Fatalf("after rewind: %v", b)
		}
	})
}

// Many goroutines Assign and produce while one polls (run with -race).
func TestAssignConcurrentWithPoll(t *testing.T) {
	tr, topic := setup(t, 4)
	f := newFetcher(t, tr, topic, nil, time.Millisecond)
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := f.Poll(context.Background()); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := range 200 {
		p := int32(i % 4)
		produce(t, tr, topic, p, "k", "v")
		if err := f.Assign(map[int32]int64{p: 0}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	<-polled
}

func TestFetcherClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, topic := setup(t, 1)
		f := newFetcher(t, tr, topic, map[int32]int64{0: 0}, time.Hour)
		done := pollAsync(context.Background(), f)
		synctest.Wait()
		f.Close()
		wantKind(t, (<-done).err, transport.ErrClosed, false)
		_, err := f.Poll(context.Background())
		wantKind(t, err, transport.ErrClosed, false)
		wantKind(t, f.Assign(map[int32]int64{0: 0}), transport.ErrClosed, false)
		if err := f.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		// The transport still works.
		produce(t, tr, topic, 0, "k", "v")
	})
}

// SPEC X2, B4: offsets are answered while a long poll is in flight.
func TestOffsetsNotBlockedByPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, topic := setup(t, 1)
		produce(t, tr, topic, 0, "k", "v")
		f := newFetcher(t, tr, topic, map[int32]int64{0: 1}, time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			_, err := f.Poll(ctx)
			done <- err
		}()
		synctest.Wait()
		start := time.Now()
		end, err := tr.EndOffsets(context.Background(), topic, []int32{0})
		if err != nil || end[0] != 1 {
			t.Fatalf("EndOffsets = %v, %v", end, err)
		}
		st, err := tr.StartOffsets(context.Background(), topic, []int32{0})
		if err != nil || st[0] != 0 {
			t.Fatalf("StartOffsets = %v, %v", st, err)
		}
		if time.Since(start) != 0 {
			t.Fatalf("offsets took %v", time.Since(start))
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	})
}
