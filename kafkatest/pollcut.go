package kafkatest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ktables/ktables/transport"
)

// checkPollCutShort: a Poll whose context ends during its long poll returns
// then, well before the long poll would, and the session loses nothing: a
// record produced afterwards comes with a later Poll. Adapters that wait
// on a goroutine of their own (confluent) leave the wait to the next Poll;
// those that send a lone fetch on the Poll's goroutine (sarama, kafka-go)
// cut its connection or request short. (SPEC X3)
func checkPollCutShort(t *testing.T, a Adapter) {
	tr := openTransport(t, a, Start(t))
	topic := NewTopic(t, tr, 1, nil)
	f := NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 5 * time.Second})
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		start := time.Now()
		b, err := f.Poll(ctx)
		cancel()
		if len(b.Records) > 0 {
			t.Fatalf("Poll of an empty partition returned %d records", len(b.Records))
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Poll cut short: %v, want no error or the context's", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("Poll with a 300 ms context returned after %v (long poll 5 s)", d)
		}
	}
	Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
	got := PollUntil(t, f, 20*time.Second, Reached(map[int32]int64{0: 1}))
	if len(got.Records) != 1 || string(got.Records[0].Key) != "k" {
		t.Fatalf("after Polls cut short: %d records, want the one produced", len(got.Records))
	}
}
