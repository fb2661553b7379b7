package saramatransport

import (
	"testing"

	"github.com/IBM/sarama"
)

// newT returns a transport over seeds with cfg (nil: NewConfig, which
// reads uncommitted), closed when t ends. The helpers over any transport
// (topics, produce, polling) are in brokertest.
func newT(t *testing.T, seeds []string, cfg *sarama.Config) *Transport {
	t.Helper()
	tr, err := New(seeds, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}
