//go:build cgo

package confluentwire

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
	confluenttransport "github.com/ktables/ktables/transport_confluent"
)

// An idle Poll waits out its long poll aside, so that it can end with its
// context or Close at once. A Poll cut short leaves that wait running; the
// next Poll takes it over, with the record it brings: nothing is lost, and
// nothing polls the consumer twice at once.
func TestPollCutShortKeepsTheRecord(t *testing.T) {
	seeds := kafkatest.Start(t)
	tr, err := confluenttransport.New(conf(seeds, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	topic := kafkatest.NewTopic(t, tr, 1, nil)
	f := kafkatest.NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 5 * time.Second})

	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		start := time.Now()
		b, err := f.Poll(ctx)
		cancel()
		if len(b.Records) > 0 {
			t.Fatalf("Poll of an empty partition returned %d records", len(b.Records))
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Poll cut short: %v", err)
		}
		// Well before the 5 s long poll: the context ended the wait.
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("Poll with a 300 ms context returned after %v", d)
		}
	}
	kafkatest.Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
	c := kafkatest.PollUntil(t, f, 20*time.Second, kafkatest.Reached(map[int32]int64{0: 1}))
	if len(c.Records) != 1 || string(c.Records[0].Key) != "k" {
		t.Fatalf("after Polls cut short, got %d records, want the one produced", len(c.Records))
	}
}

// Close is prompt while a Poll waits aside, the Poll returns ErrClosed, and
// the wait left in librdkafka ends with the transport: no goroutine
// outlives Close.
func TestCloseDuringAWaitAside(t *testing.T) {
	seeds := kafkatest.Start(t)
	base := runtime.NumGoroutine()
	tr, err := confluenttransport.New(conf(seeds, nil))
	if err != nil {
		t.Fatal(err)
	}
	topic := kafkatest.NewTopic(t, tr, 1, nil)
	f, err := tr.NewFetcher(kafkatest.Ctx(t, 10*time.Second), topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Poll(kafkatest.Ctx(t, 10*time.Second)); err != nil { // the partition's end
		t.Fatal(err)
	}
	polled := make(chan error, 1)
	go func() {
		_, err := f.Poll(kafkatest.Ctx(t, 10*time.Second))
		polled <- err
	}()
	time.Sleep(200 * time.Millisecond) // let the Poll reach its wait aside; not synchronisation
	start := time.Now()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-polled:
		if !errors.Is(err, transport.ErrClosed) {
			t.Fatalf("Poll during Close: %v, want ErrClosed", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Poll still waiting 3 s after Close")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close and the Poll's return took %v", d)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	kafkatest.NoLeaks(t, base)
}
