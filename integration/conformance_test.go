package integration

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables/conformance"
	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
	franztransport "github.com/ktables/ktables/transport_franz"
	kafkagotransport "github.com/ktables/ktables/transport_kafkago"
	saramatransport "github.com/ktables/ktables/transport_sarama"
)

// adapters lists every adapter, each opened the way its own conformance
// test opens it (read committed, so the transaction cases hold).
var adapters = map[string]func(seeds []string) (transport.Transport, error){
	"franz": func(seeds []string) (transport.Transport, error) {
		return franztransport.New(seeds, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	},
	"sarama": func(seeds []string) (transport.Transport, error) {
		cfg := saramatransport.NewConfig() // reads uncommitted by default, like every adapter
		cfg.Consumer.IsolationLevel = 1    // sarama.ReadCommitted (sarama is an indirect dependency here)
		return saramatransport.New(seeds, cfg)
	},
	"kafkago": func(seeds []string) (transport.Transport, error) {
		return kafkagotransport.New(seeds, kafkagotransport.WithReadCommitted())
	},
}

// TestConformance runs the whole suite for every adapter against real
// Kafka: the same cases kfake runs, minus broker control (compaction on
// demand, fault injection), which skip by feature flag.
func TestConformance(t *testing.T) {
	for name, open := range adapters {
		t.Run(name, func(t *testing.T) {
			conformance.Run(t, kafkatest.NewExternalHarness(brokers(t), open))
		})
	}
}
