package confluenttransport

import (
	"runtime"
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// A transport's fixed Go heap stays small: confluent-kafka-go's default
// channel buffers (a million entries each for Events and ProduceChannel)
// cost 24 MB per transport, more than a 100k-key table's entries (issue
// 17: memory per key on every adapter).
func TestTransportHeapIsSmall(t *testing.T) {
	heap := func() uint64 {
		var m runtime.MemStats
		for range 3 {
			runtime.GC()
		}
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	tr, err := New(kafka.ConfigMap{"bootstrap.servers": "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	grown := int64(heap()) - int64(before)
	runtime.KeepAlive(tr)
	tr.Close()
	if grown > 2<<20 {
		t.Fatalf("a transport holds %d KB of Go heap, want under 2 MB", grown>>10)
	}
	t.Logf("a transport holds %d KB of Go heap", grown>>10)
}
