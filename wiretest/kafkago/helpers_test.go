package kafkagowire

import (
	"testing"

	kafkagotransport "github.com/ktables/ktables/transport_kafkago"
)

// newT returns a transport over seeds with opts, closed when t ends. The
// helpers over any transport (topics, produce, polling) are in kafkatest.
func newT(t *testing.T, seeds []string, opts ...kafkagotransport.Option) *kafkagotransport.Transport {
	t.Helper()
	tr, err := kafkagotransport.New(seeds, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}
