package saramawire

import (
	"errors"
	"testing"

	saramatransport "github.com/ktables/ktables/transport_sarama"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ktables/ktables/conformance"
	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
)

// TestConformance runs the shared suite over the adapter against kfake (or
// KTABLES_BROKERS, without the cases that need broker control).
//
// Transports read committed records only (NewConfig reads uncommitted by
// default; readCommitted sets it): the suite's transaction cases require that aborted records are never
// delivered. sarama's producer retries CORRUPT_MESSAGE (the harness's
// default retriable produce fault) internally, so the injected fault would
// never be seen; produce faults answer NETWORK_EXCEPTION instead, which
// sarama returns and the adapter classifies as a retriable
// transport.ErrBrokerUnavailable.
func TestConformance(t *testing.T) {
	h := kafkatest.NewHarness(t, func(seeds []string) (transport.Transport, error) {
		return saramatransport.New(seeds, readCommittedConfig())
	})
	h.FaultCodes[conformance.FaultProduce] = kerr.NetworkException
	h.Watermarks = true
	conformance.Run(t, h)
}

// adapter opens the transports of the shared reliability and adapter
// checks.
var adapter = kafkatest.Adapter{
	Open:          func(seeds []string) (transport.Transport, error) { return saramatransport.New(seeds, nil) },
	SASLMechanism: "PLAIN",
	OpenSASL: func(seeds []string, user, password string) (transport.Transport, error) {
		cfg := saramatransport.NewConfig()
		cfg.Net.SASL.Enable = true
		cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		cfg.Net.SASL.User, cfg.Net.SASL.Password = user, password
		return saramatransport.New(seeds, cfg)
	},
	OpenIsolation: func(seeds []string, readCommitted bool) (transport.Transport, error) {
		if readCommitted {
			return saramatransport.New(seeds, readCommittedConfig())
		}
		return saramatransport.New(seeds, saramatransport.NewConfig()) // read uncommitted, the default
	},
	NativeCode: func(err error) (int16, bool) {
		var ke sarama.KError
		if errors.As(err, &ke) {
			return int16(ke), true
		}
		return 0, false
	},
}

func readCommittedConfig() *sarama.Config {
	cfg := saramatransport.NewConfig()
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	return cfg
}

func TestReliability(t *testing.T) { kafkatest.RunReliability(t, adapter) }

func TestAdapterChecks(t *testing.T) { kafkatest.RunAdapterChecks(t, adapter) }

// TestSoak: writers, partition growth, leader moves and compaction; live
// and late tables equal the raw fold of the log (SPEC M1). KTABLES_SOAK=5m
// for a long run.
func TestSoak(t *testing.T) { kafkatest.RunSoak(t, adapter, kafkatest.SoakOptions{}) }
