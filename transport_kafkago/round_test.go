package kafkagotransport

import (
	"testing"

	"github.com/ktables/ktables/transport"
)

// A poll that reached the high watermark sends no fetch ahead: at the head
// it would only wait for a record not yet written, and it lands on the
// broker as the broker acknowledges that record's producer (issue 17).
func TestBehindHead(t *testing.T) {
	for _, c := range []struct {
		name string
		next map[int32]int64
		hw   map[int32]int64
		want bool
	}{
		{"at the head", map[int32]int64{0: 7}, map[int32]int64{0: 7}, false},
		{"behind", map[int32]int64{0: 7}, map[int32]int64{0: 9}, true},
		{"one of two behind", map[int32]int64{0: 7, 1: 3}, map[int32]int64{0: 7, 1: 4}, true},
		{"no watermark reported", map[int32]int64{0: 7}, nil, false},
		{"nothing advanced", nil, map[int32]int64{0: 9}, false},
	} {
		b := transport.Batch{Next: c.next, HighWatermarks: c.hw}
		if got := behindHead(&b); got != c.want {
			t.Errorf("%s: behindHead = %v, want %v", c.name, got, c.want)
		}
	}
}
