package ktables

import (
	"fmt"
	"maps"
	"runtime"
	"strconv"
	"testing"
)

// BenchmarkSnapshotChurn: a Snapshot of 100k keys after each batch of
// changes (untimed), beside maps.Clone of a Go map taking the same changes.
// 0 changes is the cache's best case; 1,000 (1%) is patched; 20,000 is past
// the limit (an eighth of the table), so every Snapshot rebuilds.
func BenchmarkSnapshotChurn(b *testing.B) {
	const n = 100_000
	val := make([]byte, 100)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%09d", i)
	}
	for _, changes := range []int{0, 1000, 20_000} {
		b.Run("changes="+strconv.Itoa(changes)+"/ktables", func(b *testing.B) {
			s := bytesStore{newPackedMap()}
			s.reserve(n)
			for _, k := range keys {
				s.set(k, val)
			}
			s.snapshot()
			j := 0
			for b.Loop() {
				b.StopTimer()
				for range changes {
					s.set(keys[j*7919%n], val)
					j++
				}
				b.StartTimer()
				if len(s.snapshot()) != n {
					b.Fatal("short")
				}
			}
		})
		b.Run("changes="+strconv.Itoa(changes)+"/maps.Clone", func(b *testing.B) {
			m := make(map[string][]byte, n)
			for _, k := range keys {
				m[k] = val
			}
			j := 0
			for b.Loop() {
				b.StopTimer()
				for range changes {
					m[keys[j*7919%n]] = val
					j++
				}
				b.StartTimer()
				if len(maps.Clone(m)) != n {
					b.Fatal("short")
				}
			}
		})
	}
}

// BenchmarkSnapshotCacheMemory reports what the Snapshot cache of a 100k
// key table holds on the heap, per key (the map only: keys and values
// alias the store's entries).
func BenchmarkSnapshotCacheMemory(b *testing.B) {
	const n = 100_000
	val := make([]byte, 100)
	for b.Loop() {
		s := bytesStore{newPackedMap()}
		s.reserve(n)
		for i := range n {
			s.set(fmt.Sprintf("key-%09d", i), val)
		}
		before := heapAfterGC()
		s.snapshot()
		after := heapAfterGC()
		b.ReportMetric(float64(after-before)/n, "cache-B/key")
		if s.cache.m == nil {
			b.Fatal("no cache")
		}
	}
}

func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkPackedSetTracking: one update of a 100k-key packed store with
// no Snapshot cache (the writer only tests a flag) and with one (the
// writer also records the key); an untimed Snapshot every 10,000 updates
// keeps the cache below its limit. Both collect garbage at the same points.
func BenchmarkPackedSetTracking(b *testing.B) {
	const n = 100_000
	val := make([]byte, 100)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%09d", i)
	}
	for _, cached := range []bool{false, true} {
		name := "no-cache"
		if cached {
			name = "cache"
		}
		b.Run(name, func(b *testing.B) {
			s := bytesStore{newPackedMap()}
			s.reserve(n)
			for _, k := range keys {
				s.set(k, val)
			}
			if cached {
				s.snapshot()
			}
			runtime.GC()
			i := 0
			for b.Loop() {
				s.set(keys[i*7919%n], val)
				if i++; i%10_000 == 0 {
					b.StopTimer()
					if cached {
						s.snapshot()
					}
					runtime.GC() // the copy's garbage is not the writer's cost
					b.StartTimer()
				}
			}
			if cached != (s.cache.m != nil) {
				b.Fatalf("cache present: %v", s.cache.m != nil)
			}
		})
	}
}
