package ktables_test

import (
	"context"
	"iter"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

func p50(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// BenchmarkWatchDelivery: latency from a write's acknowledgement to the
// watcher receiving its event, against the table's own propagation (ack to
// Get seeing the value), alternating in one run on memtransport. Target:
// watch p50 ≤ 1.1× table p50.
func BenchmarkWatchDelivery(b *testing.B) {
	ctx := context.Background()
	c := memtransport.NewCluster()
	defer c.Close()
	tbl, err := ktables.Open(ctx, c.Transport(), "delivery", ktables.String())
	if err != nil {
		b.Fatal(err)
	}
	defer tbl.Close()
	w, err := ktables.OpenWriter(ctx, c.Transport(), "delivery", ktables.String())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	seen := make(chan time.Time, 1)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	synced := make(chan struct{})
	go func() {
		for ev, err := range tbl.Watch(wctx) {
			if err != nil {
				return
			}
			if ev.Kind == ktables.EventSynced {
				close(synced)
			}
			if ev.Kind == ktables.EventSet && ev.Key == "watched" {
				seen <- time.Now()
			}
		}
	}()
	<-synced
	var table, watch []time.Duration
	i := 0
	for b.Loop() {
		i++
		v := strconv.Itoa(i)
		if i%2 == 0 {
			if err := w.Set(ctx, "polled", v); err != nil {
				b.Fatal(err)
			}
			acked := time.Now()
			for {
				if got, _ := tbl.Get("polled"); got == v {
					break
				}
				runtime.Gosched()
			}
			table = append(table, time.Since(acked))
		} else {
			if err := w.Set(ctx, "watched", v); err != nil {
				b.Fatal(err)
			}
			acked := time.Now()
			watch = append(watch, max(0, (<-seen).Sub(acked)))
		}
	}
	if len(table) > 0 && len(watch) > 0 {
		tp, wp := p50(table), p50(watch)
		b.ReportMetric(float64(tp.Nanoseconds()), "table-p50-ns")
		b.ReportMetric(float64(wp.Nanoseconds()), "watch-p50-ns")
		b.ReportMetric(float64(wp)/float64(tp), "watch/table")
	}
}

// BenchmarkWatchIdleWatchersCatchUp: time for a table to apply a burst of
// 100k records with no watcher, and with 1,000 watchers that started (took
// their snapshot) and then stopped reading. Target: ≤ 5 % slower with them.
func BenchmarkWatchIdleWatchersCatchUp(b *testing.B) {
	for _, watchers := range []int{0, 1000} {
		b.Run("watchers="+strconv.Itoa(watchers), func(b *testing.B) {
			ctx := context.Background()
			c := memtransport.NewCluster()
			defer c.Close()
			seedTopic(b, c, "burst", 4, 0, 0)
			tbl, err := ktables.Open(ctx, c.Transport(), "burst", ktables.Bytes(), ktables.WithoutEnsureTopic())
			if err != nil {
				b.Fatal(err)
			}
			defer tbl.Close()
			for range watchers {
				next, stop := iter.Pull2(tbl.Watch(ctx))
				defer stop()
				if ev, err, _ := next(); err != nil || ev.Kind != ktables.EventSynced {
					b.Fatal(ev.Kind, err)
				}
			}
			const burst = 100_000
			val := make([]byte, 100)
			keys := make([][]byte, burst)
			for i := range keys {
				keys[i] = []byte("key-" + strconv.Itoa(i))
			}
			for b.Loop() {
				for i, k := range keys {
					appendBench(b, c, "burst", int32(i%4), k, val)
				}
				if err := tbl.Barrier(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(burst)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

func appendBench(b *testing.B, c *memtransport.Cluster, topic string, p int32, key, value []byte) {
	if _, err := c.Append(topic, transport.Record{Key: key, Value: value, Partition: p}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLeaseExpiry: how long after the TTL of its last record a member
// disappears, in real time with a 200 ms TTL. Target: within ttl + 1 s.
func BenchmarkLeaseExpiry(b *testing.B) {
	ctx := context.Background()
	c := memtransport.NewCluster(memtransport.WithDefaultFetchWait(100 * time.Millisecond))
	defer c.Close()
	const ttl = 200 * time.Millisecond
	g, err := ktables.OpenGrouped(ctx, c.Transport(), "leases", ktables.String(), ktables.WithTTL(ttl))
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	w, err := ktables.OpenGroupedWriter(ctx, c.Transport(), "leases", ktables.String())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	var late []time.Duration
	for b.Loop() {
		written := time.Now()
		if err := w.Set(ctx, "api", "host", "v"); err != nil {
			b.Fatal(err)
		}
		_ = g.Barrier(ctx)
		for g.Has("api", "host") {
			time.Sleep(time.Millisecond) // polling interval
		}
		late = append(late, time.Since(written)-ttl)
	}
	b.ReportMetric(float64(p50(late).Microseconds())/1000, "p50-ms-past-ttl")
	b.ReportMetric(float64(slices.Max(late).Microseconds())/1000, "max-ms-past-ttl")
}
