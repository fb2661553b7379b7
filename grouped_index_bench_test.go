package ktables

import (
	"runtime"
	"strconv"
	"testing"
)

// BenchmarkGroupIndexMemory: the grouped index's heap per member, 1M
// members in 10k groups of 100 with 100-byte values (Bytes codec), and in
// 100k groups of 10.
func BenchmarkGroupIndexMemory(b *testing.B) {
	val := make([]byte, 100)
	for _, shape := range []struct{ groups, members int }{{10_000, 100}, {100_000, 10}} {
		b.Run(strconv.Itoa(shape.groups)+"x"+strconv.Itoa(shape.members), func(b *testing.B) {
			for b.Loop() {
				before := heapAfterGC()
				x := newGroupIndex[[]byte](DefaultKeyCodec)
				for m := range shape.members {
					for g := range shape.groups {
						k, _ := DefaultKeyCodec.Encode("service-"+strconv.Itoa(g), "host-"+strconv.Itoa(m))
						if x.accept(k) != keyOK {
							b.Fatal("key refused")
						}
						x.set(k, val)
					}
				}
				after := heapAfterGC()
				total := shape.groups * shape.members
				if x.len() != total {
					b.Fatal("short")
				}
				b.ReportMetric(float64(after-before)/float64(total), "B/member")
				runtime.KeepAlive(x)
			}
		})
	}
}
