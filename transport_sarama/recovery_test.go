package saramatransport

import (
	"testing"

	"github.com/ktables/ktables/internal/brokertest"
)

// TestRecovery: issue 16's adapter-side recovery checks (topic re-created,
// oversized values, leader moves, silent partition, not-Kafka and refused
// addresses) over the faultnet proxy.
func TestRecovery(t *testing.T) { brokertest.RunRecovery(t, adapter) }
