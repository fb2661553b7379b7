//go:build cgo

package confluentwire

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
	confluenttransport "github.com/ktables/ktables/transport_confluent"
)

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
