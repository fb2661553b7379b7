package ktables_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ktables/ktables"
)

// interleaveChunk is how many lookups each side does before the other
// takes over: long enough that the clock reads cost nothing, short enough
// that load from other processes falls on both sides alike.
const interleaveChunk = 16384

// BenchmarkGetInterleaved times Get and the map baseline in alternating
// chunks of the same run and reports their ratio: on a machine shared with
// other work, separate runs of each differ more than the two do.
func BenchmarkGetInterleaved(b *testing.B) {
	_, tbl := benchTable(b, 100_000)
	getInterleaved(b, tbl, rawCopy(tbl), getKeySets())
}

// rawCopy is the map baseline holding tbl's records under its own keys, as
// in the bench report: tbl.All's keys alias the table's entries.
func rawCopy(tbl *ktables.Table[[]byte]) map[string][]byte {
	raw := make(map[string][]byte, tbl.Len())
	for k, v := range tbl.All() {
		raw[strings.Clone(k)] = v
	}
	return raw
}

func getInterleaved(b *testing.B, tbl *ktables.Table[[]byte], raw map[string][]byte, sets []keySet) {
	for _, set := range sets {
		b.Run(set.name, func(b *testing.B) {
			var kt, mp time.Duration
			rounds := 0
			for b.Loop() {
				kt += tableChunk(tbl, set.keys, rounds)
				mp += mapChunk(raw, set.keys, rounds)
				rounds++
			}
			reportInterleaved(b, kt, mp, rounds)
		})
	}
}

// BenchmarkGetParallelInterleaved is BenchmarkGetInterleaved on two
// goroutines at once while the reader applies about 100k updates/s; the
// baseline map reads during the same updates (it cannot take them).
func BenchmarkGetParallelInterleaved(b *testing.B) {
	c, tbl := benchTable(b, 100_000)
	getParallelInterleaved(b, tbl, rawCopy(tbl), getKeySets(), func() func() int64 { return liveUpdates(c) })
}

// getParallelInterleaved runs each set's lookups on two goroutines while
// the updates live starts for that set run; live's stop reports their count.
func getParallelInterleaved(b *testing.B, tbl *ktables.Table[[]byte], raw map[string][]byte, sets []keySet, live func() (stop func() int64)) {
	for _, set := range sets {
		b.Run(set.name, func(b *testing.B) {
			stop := live()
			var mu sync.Mutex
			var kt, mp time.Duration
			var wg sync.WaitGroup
			for g := range 2 {
				wg.Go(func() {
					var k, m time.Duration
					for r := range b.N {
						k += tableChunk(tbl, set.keys, 2*r+g)
						m += mapChunk(raw, set.keys, 2*r+g)
					}
					mu.Lock()
					kt, mp = kt+k, mp+m
					mu.Unlock()
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(stop())/b.Elapsed().Seconds(), "updates/s")
			reportInterleaved(b, kt, mp, 2*b.N)
		})
	}
}

// tableChunk and mapChunk run one chunk of lookups, round r's stretch of
// keys, and return how long it took; a lookup that misses panics (every key
// is present). The loops are written twice, not shared through a func
// value, so neither side pays a call the other does not.
func tableChunk(tbl *ktables.Table[[]byte], keys []string, r int) time.Duration {
	n := len(keys)
	i := r * interleaveChunk
	t0 := time.Now()
	for range interleaveChunk {
		if _, ok := tbl.Get(keys[i%n]); !ok {
			panic("missing key " + keys[i%n])
		}
		i++
	}
	return time.Since(t0)
}

func mapChunk(raw map[string][]byte, keys []string, r int) time.Duration {
	n := len(keys)
	i := r * interleaveChunk
	t0 := time.Now()
	for range interleaveChunk {
		if _, ok := raw[keys[i%n]]; !ok {
			panic("missing key " + keys[i%n])
		}
		i++
	}
	return time.Since(t0)
}

func reportInterleaved(b *testing.B, kt, mp time.Duration, chunks int) {
	ops := float64(chunks * interleaveChunk)
	b.ReportMetric(float64(kt.Nanoseconds())/ops, "kt-ns/op")
	b.ReportMetric(float64(mp.Nanoseconds())/ops, "map-ns/op")
	b.ReportMetric(float64(kt)/float64(mp), "ratio")
}
