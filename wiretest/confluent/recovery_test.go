//go:build cgo

package confluentwire

import (
	"testing"

	"github.com/ktables/ktables/kafkatest"
)

// TestRecovery: the adapter-side recovery checks of issue 16 (topic
// re-created, oversized values, leader moves, silent partition, not-Kafka
// and refused addresses, many partitions) over the faultnet proxy, with
// the adapter's default settings.
func TestRecovery(t *testing.T) { kafkatest.RunRecovery(t, adapter) }
