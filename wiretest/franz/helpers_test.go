package franzwire

import (
	"testing"

	franztransport "github.com/ktables/ktables/transport_franz"

	"github.com/twmb/franz-go/pkg/kgo"
)

// newT returns a transport over seeds with opts, closed when t ends. The
// helpers over any transport (topics, produce, polling) are in kafkatest.
func newT(t *testing.T, seeds []string, opts ...kgo.Opt) *franztransport.Transport {
	t.Helper()
	tr, err := franztransport.New(seeds, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}
