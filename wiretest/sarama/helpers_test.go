package saramawire

import (
	"testing"

	saramatransport "github.com/ktables/ktables/transport_sarama"

	"github.com/IBM/sarama"
)

// newT returns a transport over seeds with cfg (nil: saramatransport.NewConfig, which
// reads uncommitted), closed when t ends. The helpers over any transport
// (topics, produce, polling) are in kafkatest.
func newT(t *testing.T, seeds []string, cfg *sarama.Config) *saramatransport.Transport {
	t.Helper()
	tr, err := saramatransport.New(seeds, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}
