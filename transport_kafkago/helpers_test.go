package kafkagotransport

import "testing"

// newT returns a transport over seeds with opts, closed when t ends. The
// helpers over any transport (topics, produce, polling) are in brokertest.
func newT(t *testing.T, seeds []string, opts ...Option) *Transport {
	t.Helper()
	tr, err := New(seeds, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}
