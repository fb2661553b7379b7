package ktables_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// seedTopic appends n records with distinct keys "key-%09d" and valueSize
// byte values over parts partitions.
func seedTopic(b testing.TB, c *memtransport.Cluster, topic string, parts int32, n, valueSize int) {
	b.Helper()
	seedKeys(b, c, topic, parts, n, valueSize, benchKey)
}

// benchKey is the benchmarks' key for record i: 13 bytes.
func benchKey(i int) []byte { return fmt.Appendf(nil, "key-%09d", i) }

// seedKeys is seedTopic with record i's key from keyOf.
func seedKeys(b testing.TB, c *memtransport.Cluster, topic string, parts int32, n, valueSize int, keyOf func(int) []byte) {
	b.Helper()
	if err := c.CreateTopic(transport.TopicSpec{Name: topic, Partitions: parts}); err != nil {
		b.Fatal(err)
	}
	val := make([]byte, valueSize)
	for i := range val {
		val[i] = 'v'
	}
	for i := range n {
		if _, err := c.Append(topic, transport.Record{Key: keyOf(i), Value: val, Partition: int32(i) % parts}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchTable(b *testing.B, n int) (*memtransport.Cluster, *ktables.Table[[]byte]) {
	c := memtransport.NewCluster()
	b.Cleanup(func() { c.Close() })
	seedTopic(b, c, "bench", 4, n, 100)
	tbl, err := ktables.Open(context.Background(), c.Transport(), "bench", ktables.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tbl.Close() })
	return c, tbl
}

// BenchmarkGet: one key lookup, serial, over 1,024 hot keys, 4,096 spread
// and all 100k, beside the baseline: an unsynchronized map[string][]byte
// holding the same keys, the fastest lookup Go has (target ≤ 1.3×).
func BenchmarkGet(b *testing.B) {
	_, tbl := benchTable(b, 100_000)
	raw := make(map[string][]byte, tbl.Len())
	for k, v := range tbl.All() {
		raw[k] = v
	}
	for _, set := range getKeySets() {
		keys := set.keys
		n := len(keys)
		b.Run(set.name+"/ktables", func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, ok := tbl.Get(keys[i%n]); !ok {
					b.Fatal("missing")
				}
				i++
			}
		})
		b.Run(set.name+"/map", func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, ok := raw[keys[i%n]]; !ok {
					b.Fatal("missing")
				}
				i++
			}
		})
	}
}

type keySet struct {
	name string
	keys []string
}

// getKeySets are the key sets Get is measured over (issue 17).
func getKeySets() []keySet {
	mk := func(n, stride int) []string {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprintf("key-%09d", i*stride%100_000)
		}
		return keys
	}
	return []keySet{{"hot1024", mk(1024, 97)}, {"spread4096", mk(4096, 7919)}, {"all100k", mk(100_000, 7919)}}
}

// BenchmarkSnapshot: a copy of 100k keys, beside maps.Clone of an equal Go
// map (target ≤ 2×).
func BenchmarkSnapshot(b *testing.B) {
	_, tbl := benchTable(b, 100_000)
	raw := make(map[string][]byte, tbl.Len())
	for k, v := range tbl.All() {
		raw[k] = v
	}
	b.Run("ktables", func(b *testing.B) {
		for b.Loop() {
			if len(tbl.Snapshot()) != 100_000 {
				b.Fatal("short")
			}
		}
	})
	b.Run("maps.Clone", func(b *testing.B) {
		for b.Loop() {
			if len(maps.Clone(raw)) != 100_000 {
				b.Fatal("short")
			}
		}
	})
	// Copies from GOMAXPROCS goroutines at once (run with -cpu 2).
	b.Run("ktables-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if len(tbl.Snapshot()) != 100_000 {
					panic("short")
				}
			}
		})
	})
	b.Run("maps.Clone-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if len(maps.Clone(raw)) != 100_000 {
					panic("short")
				}
			}
		})
	})
}

// BenchmarkGetParallelWhileApplying: lookups from 2 goroutines (run with
// -cpu 2) while the reader applies about 100k updates/s, beside the same
// lookups in an unsynchronized map nobody writes (target ≤ 1.3×).
func BenchmarkGetParallelWhileApplying(b *testing.B) {
	c, tbl := benchTable(b, 100_000)
	raw := make(map[string][]byte, tbl.Len())
	for k, v := range tbl.All() {
		raw[k] = v
	}
	for _, set := range getKeySets() {
		keys := set.keys
		n := len(keys)
		b.Run(set.name+"/ktables", func(b *testing.B) {
			stop := liveUpdates(c)
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					tbl.Get(keys[i%n])
					i++
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(stop())/b.Elapsed().Seconds(), "updates/s")
		})
		b.Run(set.name+"/map", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					_ = raw[keys[i%n]]
					i++
				}
			})
		})
	}
}

// liveUpdates appends about 100k updates/s to the "bench" topic's keys
// until the returned stop, which reports how many it appended.
func liveUpdates(c *memtransport.Cluster) (stop func() int64) { return liveUpdatesOf(c, benchKey) }

// liveUpdatesOf is liveUpdates over the keys keyOf gives.
func liveUpdatesOf(c *memtransport.Cluster, keyOf func(int) []byte) (stop func() int64) {
	quit := make(chan struct{})
	done := make(chan struct{})
	var updates atomic.Int64
	go func() {
		defer close(done)
		val := make([]byte, 100)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for i := 0; ; {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			for range 100 { // 100 per millisecond: 100k/s
				c.Append("bench", transport.Record{Key: keyOf(i * 7919 % 100_000), Value: val, Partition: int32(i % 4)})
				updates.Add(1)
				i++
			}
		}
	}()
	return func() int64 {
		close(quit)
		<-done
		return updates.Load()
	}
}

// BenchmarkApply1M: catch-up of 1M distinct keys with the bytes codec on
// memtransport (target ≥ 3M records/s), beside the raw loop doing the same
// job: poll and store into a map[string][]byte.
func BenchmarkApply1M(b *testing.B) {
	const n = 1_000_000
	c := memtransport.NewCluster()
	defer c.Close()
	seedTopic(b, c, "apply", 4, n, 100)
	ctx := context.Background()
	b.Run("ktables", func(b *testing.B) {
		for b.Loop() {
			tbl, err := ktables.Open(ctx, c.Transport(), "apply", ktables.Bytes(), ktables.WithoutEnsureTopic())
			if err != nil || tbl.Len() != n {
				b.Fatal(err)
			}
			tbl.Close()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			if m := rawCatchUp(b, c.Transport(), "apply"); len(m) != n {
				b.Fatal(len(m))
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}

// rawCatchUp is the simplest fast correct hand-written consumer: poll from
// the start to the end offsets, last write wins into a map presized from the
// end offsets, copying each value (the table copies too, so that no entry
// pins a fetch buffer).
func rawCatchUp(b testing.TB, tr transport.Transport, topic string) map[string][]byte {
	ctx := context.Background()
	parts, _ := tr.Partitions(ctx, topic)
	start, _ := tr.StartOffsets(ctx, topic, parts)
	end, _ := tr.EndOffsets(ctx, topic, parts)
	f, err := tr.NewFetcher(ctx, topic, start, transport.FetchOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var records int64
	for p, e := range end {
		records += e - start[p]
	}
	m := make(map[string][]byte, records)
	pos := start
	for !reached(pos, end) {
		batch, err := f.Poll(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range batch.Records {
			if r.Value == nil {
				delete(m, string(r.Key))
			} else {
				m[string(r.Key)] = bytes.Clone(r.Value)
			}
		}
		for p, o := range batch.Next {
			pos[p] = o
		}
	}
	return m
}

func reached(pos, end map[int32]int64) bool {
	for p, e := range end {
		if pos[p] < e {
			return false
		}
	}
	return true
}

// heapInUse returns live heap bytes after a full collection.
func heapInUse() uint64 {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// tableBytesPerKey measures what a table keeps per key once the broker's own
// log is gone: the cluster is closed and dropped, so only memory the table
// references survives the collection.
func tableBytesPerKey(b *testing.B, n, valueSize int, open func(context.Context, transport.Transport) (int, func())) float64 {
	before := heapInUse()
	c := memtransport.NewCluster()
	seedTopic(b, c, "mem", 4, n, valueSize)
	got, closeTable := open(context.Background(), c.Transport())
	if got != n {
		b.Fatalf("loaded %d of %d", got, n)
	}
	// The table holds its transport, which holds the cluster: drop the log
	// itself so only what the table references stays live.
	if err := c.DeleteTopic("mem"); err != nil {
		b.Fatal(err)
	}
	c.Close()
	after := heapInUse()
	closeTable()
	return float64(after-before) / float64(n)
}

// BenchmarkMemoryPerKey: 1M keys, 100-byte values, bytes codec. Target ≤
// payload + 64 B/key, payload being key + value bytes (13 + 100 here).
func BenchmarkMemoryPerKey(b *testing.B) {
	const n, size = 1_000_000, 100
	for b.Loop() {
		var tbl *ktables.Table[[]byte]
		perKey := tableBytesPerKey(b, n, size, func(ctx context.Context, tr transport.Transport) (int, func()) {
			var err error
			tbl, err = ktables.Open(ctx, tr, "mem", ktables.Bytes())
			if err != nil {
				b.Fatal(err)
			}
			tbl.Close() // frozen: nothing else allocates while we measure
			return tbl.Len(), func() { runtime.KeepAlive(tbl) }
		})
		payload := float64(len("key-000000000") + size)
		b.ReportMetric(perKey, "B/key")
		b.ReportMetric(perKey-payload, "overhead-B/key")
	}
}

// BenchmarkGroupedMemoryOverhead: 100k members (1000 groups × 100), 100-byte
// values; the grouped table's bytes per member over the flat table's for the
// same records. Target ≤ +20%.
func BenchmarkGroupedMemoryOverhead(b *testing.B) {
	const groups, members, size = 1000, 100, 100
	seed := func(c *memtransport.Cluster) {
		if err := c.CreateTopic(transport.TopicSpec{Name: "mem", Partitions: 4}); err != nil {
			b.Fatal(err)
		}
		val := make([]byte, size)
		for g := range groups {
			for m := range members {
				k, _ := ktables.DefaultKeyCodec.Encode("service-"+strconv.Itoa(g), "host-"+strconv.Itoa(m))
				c.Append("mem", transport.Record{Key: []byte(k), Value: val, Partition: int32(m % 4)})
			}
		}
	}
	measure := func(open func(transport.Transport) (int, func())) float64 {
		before := heapInUse()
		c := memtransport.NewCluster()
		seed(c)
		got, keep := open(c.Transport())
		if got != groups*members {
			b.Fatalf("loaded %d", got)
		}
		if err := c.DeleteTopic("mem"); err != nil {
			b.Fatal(err)
		}
		c.Close()
		after := heapInUse()
		keep()
		return float64(after-before) / (groups * members)
	}
	ctx := context.Background()
	for b.Loop() {
		flat := measure(func(tr transport.Transport) (int, func()) {
			t, err := ktables.Open(ctx, tr, "mem", ktables.Bytes())
			if err != nil {
				b.Fatal(err)
			}
			t.Close()
			return t.Len(), func() { runtime.KeepAlive(t) }
		})
		grouped := measure(func(tr transport.Transport) (int, func()) {
			g, err := ktables.OpenGrouped(ctx, tr, "mem", ktables.Bytes())
			if err != nil {
				b.Fatal(err)
			}
			g.Close()
			return g.TotalMembers(), func() { runtime.KeepAlive(g) }
		})
		b.ReportMetric(flat, "flat-B/key")
		b.ReportMetric(grouped, "grouped-B/key")
		b.ReportMetric(100*(grouped-flat)/flat, "overhead-%")
	}
}

func benchGrouped(b *testing.B) *ktables.GroupedTable[[]byte] {
	c := memtransport.NewCluster()
	b.Cleanup(func() { c.Close() })
	c.CreateTopic(transport.TopicSpec{Name: "g", Partitions: 1})
	val := make([]byte, 100)
	for g := range 1000 {
		for m := range 100 {
			k, _ := ktables.DefaultKeyCodec.Encode("service-"+strconv.Itoa(g), "host-"+strconv.Itoa(m))
			c.Append("g", transport.Record{Key: []byte(k), Value: val})
		}
	}
	tbl, err := ktables.OpenGrouped(context.Background(), c.Transport(), "g", ktables.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tbl.Close() })
	return tbl
}

// BenchmarkGroupedGet: one member lookup.
func BenchmarkGroupedGet(b *testing.B) {
	tbl := benchGrouped(b)
	i := 0
	for b.Loop() {
		if !tbl.Has("service-"+strconv.Itoa(i%1000), "host-42") {
			b.Fatal("missing")
		}
		i++
	}
}

// BenchmarkGroupedMembers100: a copy of a 100-member group, beside
// maps.Clone of an equal Go map (target ≤ 1.5×).
func BenchmarkGroupedMembers100(b *testing.B) {
	tbl := benchGrouped(b)
	b.Run("ktables", func(b *testing.B) {
		for b.Loop() {
			if len(tbl.Members("service-7")) != 100 {
				b.Fatal("wrong size")
			}
		}
	})
	raw := tbl.Members("service-7")
	b.Run("maps.Clone", func(b *testing.B) {
		for b.Loop() {
			if len(maps.Clone(raw)) != 100 {
				b.Fatal("wrong size")
			}
		}
	})
	b.Run("ktables-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if len(tbl.Members("service-7")) != 100 {
					panic("wrong size")
				}
			}
		})
	})
	b.Run("maps.Clone-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if len(maps.Clone(raw)) != 100 {
					panic("wrong size")
				}
			}
		})
	})
}

// BenchmarkBarrierIdle: an idle, caught-up table's barrier on memtransport
// with the default 500 ms long-poll in flight.
func BenchmarkBarrierIdle(b *testing.B) {
	_, tbl := benchTable(b, 1000)
	ctx := context.Background()
	time.Sleep(10 * time.Millisecond) // let the reader park in its long poll
	for b.Loop() {
		if err := tbl.Barrier(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
