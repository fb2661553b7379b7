package ktables_test

import (
	"testing"
	"time"
)

// BenchmarkGetInterleaved times Get and the map baseline in alternating
// chunks of the same run, so load from other processes falls on both
// sides alike; it reports the ratio.
func BenchmarkGetInterleaved(b *testing.B) {
	_, tbl := benchTable(b, 100_000)
	raw := make(map[string][]byte, tbl.Len())
	for k, v := range tbl.All() {
		raw[k] = v
	}
	for _, set := range getKeySets() {
		keys := set.keys
		n := len(keys)
		b.Run(set.name, func(b *testing.B) {
			const chunk = 16384
			var kt, mp time.Duration
			ops, i, j := 0, 0, 0
			for b.Loop() {
				t0 := time.Now()
				for range chunk {
					if _, ok := tbl.Get(keys[i%n]); !ok {
						b.Fatal("missing")
					}
					i++
				}
				t1 := time.Now()
				for range chunk {
					if _, ok := raw[keys[j%n]]; !ok {
						b.Fatal("missing")
					}
					j++
				}
				t2 := time.Now()
				kt += t1.Sub(t0)
				mp += t2.Sub(t1)
				ops += chunk
			}
			b.ReportMetric(float64(kt.Nanoseconds())/float64(ops), "kt-ns/op")
			b.ReportMetric(float64(mp.Nanoseconds())/float64(ops), "map-ns/op")
			b.ReportMetric(float64(kt)/float64(mp), "ratio")
		})
	}
}
