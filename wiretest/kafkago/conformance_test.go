package kafkagowire

import (
	"errors"
	"testing"

	kafkagotransport "github.com/ktables/ktables/transport_kafkago"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/ktables/ktables/conformance"
	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
)

// TestConformance runs the shared suite over the adapter against kfake (or
// KTABLES_BROKERS, without the cases that need broker control).
//
// Transports read committed records only: the suite's transaction cases
// require that aborted records are never delivered. The harness's default
// retriable fault codes (NOT_LEADER_FOR_PARTITION on fetch, CORRUPT_MESSAGE
// on produce, LEADER_NOT_AVAILABLE on list offsets) are all reported by
// kafka-go rather than retried inside it, so they stay.
func TestConformance(t *testing.T) {
	h := kafkatest.NewHarness(t, func(seeds []string) (transport.Transport, error) {
		return kafkagotransport.New(seeds, kafkagotransport.WithReadCommitted())
	})
	h.Watermarks = true
	conformance.Run(t, h)
}

// adapter opens the transports of the shared reliability and adapter
// checks.
var adapter = kafkatest.Adapter{
	Open:          func(seeds []string) (transport.Transport, error) { return kafkagotransport.New(seeds) },
	SASLMechanism: "SCRAM-SHA-256",
	OpenSASL: func(seeds []string, user, password string) (transport.Transport, error) {
		mech, err := scram.Mechanism(scram.SHA256, user, password)
		if err != nil {
			return nil, err
		}
		return kafkagotransport.New(seeds, kafkagotransport.WithTransport(&kafka.Transport{SASL: mech}))
	},
	OpenIsolation: func(seeds []string, readCommitted bool) (transport.Transport, error) {
		if readCommitted {
			return kafkagotransport.New(seeds, kafkagotransport.WithReadCommitted())
		}
		return kafkagotransport.New(seeds)
	},
	NativeCode: func(err error) (int16, bool) {
		var ke kafka.Error
		if errors.As(err, &ke) {
			return int16(ke), true
		}
		return 0, false
	},
}

func TestReliability(t *testing.T) { kafkatest.RunReliability(t, adapter) }

func TestAdapterChecks(t *testing.T) { kafkatest.RunAdapterChecks(t, adapter) }

// TestSoak: writers, partition growth, leader moves and compaction; live
// and late tables equal the raw fold of the log (SPEC M1). KTABLES_SOAK=5m
// for a long run.
func TestSoak(t *testing.T) {
	kafkatest.RunSoak(t, adapter, kafkatest.SoakOptions{})
}
