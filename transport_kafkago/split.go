package kafkagotransport

import (
	"runtime"
	"slices"

	fetchAPI "github.com/segmentio/kafka-go/protocol/fetch"

	"github.com/ktables/ktables/transport"
)

// A catch-up of many partitions on one leader is spread over concurrent
// Fetch requests, and their answers are decoded concurrently. One request
// for every partition makes the broker assemble one large answer, then the
// client read it, then decode it, one after the other on one core; several
// requests let the broker assemble one answer while the client reads and
// decodes another, on every core (issue 17: kafka-go's catch-up of 16
// partitions ran at half the speed of a loop fetching each partition on a
// goroutine of its own). Only partitions known to have records waiting are
// split: behind the high watermark of their last answer, or, before any
// answer, of the end offsets the session opened with (FetchOptions.Ends).
// Those at the head ride along in one of them, so that their high
// watermarks come back at once; a leader with none busy gets one request
// that long-polls as before, cut short once another leader's answers
// carried records (round.go).

// leaderFetch is one Fetch request to one partition leader.
type leaderFetch struct {
	req *fetchAPI.Request
	// busy: some of its partitions have records waiting, so its answer is
	// waited for even when another answer carries records first.
	busy bool
}

// splitWays is how many requests the busy partitions of one leader are
// spread over, at most: a few per core, so that the broker assembles some
// answers while the client decodes others on every core (on two cores,
// eight measured faster than two or four, and no slower than one request
// per partition), and a bounded number, so that a catch-up of a thousand
// partitions does not send a thousand requests at once.
func splitWays() int { return min(16, 4*runtime.GOMAXPROCS(0)) }

// spread deals the busy partitions of one leader into at most ways groups
// of about equal lag, largest lag first to the lightest group.
func spread(parts []fetchAPI.RequestPartition, lag func(fetchAPI.RequestPartition) int64, ways int) [][]fetchAPI.RequestPartition {
	ways = min(ways, len(parts))
	if ways <= 1 {
		return [][]fetchAPI.RequestPartition{parts}
	}
	slices.SortFunc(parts, func(a, b fetchAPI.RequestPartition) int {
		la, lb := lag(a), lag(b)
		switch {
		case la > lb:
			return -1
		case la < lb:
			return 1
		}
		return int(a.Partition - b.Partition)
	})
	groups := make([][]fetchAPI.RequestPartition, ways)
	load := make([]int64, ways)
	for _, rp := range parts {
		i := 0
		for j := 1; j < ways; j++ {
			if load[j] < load[i] {
				i = j
			}
		}
		groups[i] = append(groups[i], rp)
		load[i] += lag(rp)
	}
	return groups
}

// noteHighWatermarks remembers the high watermarks an answer reported, for
// the next requests' split. Only Poll calls it.
func (f *fetcher) noteHighWatermarks(b *transport.Batch) {
	for p, hw := range b.HighWatermarks {
		f.hw[p] = hw
	}
}
