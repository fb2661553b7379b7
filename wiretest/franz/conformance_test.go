package franzwire

import (
	"errors"
	"testing"

	franztransport "github.com/ktables/ktables/transport_franz"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/ktables/ktables/conformance"
	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
)

// TestConformance runs the shared suite over the adapter against kfake (or
// KTABLES_BROKERS, without the cases that need broker control).
//
// Transports read committed records only: the suite's transaction cases
// require that aborted records are never delivered. The harness's default
// retriable fault codes are ones kgo reports rather than retries internally
// (CORRUPT_MESSAGE on produce, LEADER_NOT_AVAILABLE on list offsets), and
// NOT_LEADER_FOR_PARTITION on fetch, which fetch sessions keep
// (kgo.KeepRetryableFetchErrors).
func TestConformance(t *testing.T) {
	h := kafkatest.NewHarness(t, func(seeds []string) (transport.Transport, error) {
		return franztransport.New(seeds, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	})
	h.Watermarks = true
	conformance.Run(t, h)
}

// adapter opens the transports of the shared reliability and adapter
// checks.
var adapter = kafkatest.Adapter{
	Open:          func(seeds []string) (transport.Transport, error) { return franztransport.New(seeds) },
	SASLMechanism: "SCRAM-SHA-256",
	OpenSASL: func(seeds []string, user, password string) (transport.Transport, error) {
		return franztransport.New(seeds, kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha256Mechanism()))
	},
	OpenIsolation: func(seeds []string, readCommitted bool) (transport.Transport, error) {
		if readCommitted {
			return franztransport.New(seeds, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		}
		return franztransport.New(seeds)
	},
	NativeCode: func(err error) (int16, bool) {
		var ke *kerr.Error
		if errors.As(err, &ke) {
			return ke.Code, true
		}
		return 0, false
	},
}

func TestReliability(t *testing.T) { kafkatest.RunReliability(t, adapter) }

func TestAdapterChecks(t *testing.T) { kafkatest.RunAdapterChecks(t, adapter) }

// TestSoak: writers, partition growth, leader moves and compaction; live
// and late tables equal the raw fold of the log (SPEC M1). KTABLES_SOAK=5m
// for a long run.
func TestSoak(t *testing.T) { kafkatest.RunSoak(t, adapter, kafkatest.SoakOptions{}) }
