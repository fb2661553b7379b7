package kafkagotransport

import (
	"testing"

	"github.com/ktables/ktables/conformance"
	"github.com/ktables/ktables/internal/brokertest"
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
	conformance.Run(t, brokertest.NewHarness(t, func(seeds []string) (transport.Transport, error) {
		return New(seeds, WithReadCommitted())
	}))
}
