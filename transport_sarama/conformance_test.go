package saramatransport

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ktables/ktables/conformance"
	"github.com/ktables/ktables/internal/brokertest"
	"github.com/ktables/ktables/transport"
)

// TestConformance runs the shared suite over the adapter against kfake (or
// KTABLES_BROKERS, without the cases that need broker control).
//
// Transports read committed records only (NewConfig's default): the
// suite's transaction cases require that aborted records are never
// delivered. sarama's producer retries CORRUPT_MESSAGE (the harness's
// default retriable produce fault) internally, so the injected fault would
// never be seen; produce faults answer NETWORK_EXCEPTION instead, which
// sarama returns and the adapter classifies as a retriable
// transport.ErrBrokerUnavailable.
func TestConformance(t *testing.T) {
	h := brokertest.NewHarness(t, func(seeds []string) (transport.Transport, error) {
		return New(seeds, NewConfig())
	})
	h.FaultCodes[conformance.FaultProduce] = kerr.NetworkException
	conformance.Run(t, h)
}
