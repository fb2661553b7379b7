package kafkagowire

import (
	"testing"

	"github.com/ktables/ktables/kafkatest"
)

// TestRecovery: the adapter-side recovery checks of issue 16 (topic
// re-created, oversized values, leader moves, silent partition, not-Kafka
// and refused addresses) over the faultnet proxy.
func TestRecovery(t *testing.T) { kafkatest.RunRecovery(t, adapter) }
