package transport_test

import (
	"testing"

	"github.com/ktables/ktables/transport"
)

func TestKafkaRetriable(t *testing.T) {
	for code, want := range map[int16]bool{2: true, 3: true, 16: true, 51: true, 89: true, 0: false, 1: false, 29: false, 58: false, -1: false, 90: false} {
		if got := transport.KafkaRetriable(code); got != want {
			t.Errorf("KafkaRetriable(%d) = %v, want %v", code, got, want)
		}
	}
}
