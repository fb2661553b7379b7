package ktables_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// BenchmarkMemoryM1: bytes per key of an open, caught-up table over 4
// partitions (SPEC M1, ADR 12), the table still running. "one-partition":
// every key in one partition, written an hour ago: the target ≤ payload +
// 48 B/key must hold. "cross-partition": every key also has an older
// record in a second partition. "fresh": records written just now, so the
// marks are still remembered (the transient cost, gone 5 s later).
func BenchmarkMemoryM1(b *testing.B) {
	const n, size = 200_000, 100
	cases := []struct {
		name  string
		age   time.Duration
		cross bool
	}{{"one-partition", time.Hour, false}, {"cross-partition", time.Hour, true}, {"fresh", 0, false}}
	for _, cs := range cases {
		b.Run(cs.name, func(b *testing.B) {
			for b.Loop() {
				before := heapInUse()
				c := memtransport.NewCluster()
				if err := c.CreateTopic(transport.TopicSpec{Name: "m1", Partitions: 4}); err != nil {
					b.Fatal(err)
				}
				val := make([]byte, size)
				ts := time.Now().Add(-cs.age)
				for i := range n {
					key := fmt.Appendf(nil, "key-%09d", i)
					p := int32(i % 4)
					if cs.cross {
						c.Append("m1", transport.Record{Key: key, Value: val, Partition: (p + 1) % 4, Timestamp: ts.Add(-time.Second)})
					}
					c.Append("m1", transport.Record{Key: key, Value: val, Partition: p, Timestamp: ts})
				}
				tbl, err := ktables.Open(context.Background(), c.Transport(), "m1", ktables.Bytes())
				if err != nil || tbl.Len() != n {
					b.Fatal(err)
				}
				// Idle polls sweep what every partition passed.
				deadline := time.Now().Add(5 * time.Second)
				for !tbl.Stats().HeadConfirmed.After(time.Now().Add(-10*time.Millisecond)) && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond) // polling interval
				}
				if err := c.DeleteTopic("m1"); err != nil {
					b.Fatal(err)
				}
				after := heapInUse()
				b.ReportMetric(float64(after-before)/n, "B/key")
				b.ReportMetric(float64(after-before)/n-float64(len("key-000000000")+size), "overhead-B/key")
				runtime.KeepAlive(c)
				tbl.Close()
			}
		})
	}
}
