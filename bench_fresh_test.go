package ktables_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
)

// BenchmarkWaitForApplied: WaitFor on a token the table already applied
// (target ≤ 1 µs, no allocation), for a one-write token and for a token
// naming every partition (a Table.Position of a 4-partition topic).
func BenchmarkWaitForApplied(b *testing.B) {
	_, tbl := benchTable(b, 1000)
	ctx := context.Background()
	one, err := ktables.NewToken("bench", ktables.Position{Partition: 2, Offset: 10})
	if err != nil {
		b.Fatal(err)
	}
	for name, tok := range map[string]ktables.Token{"one": one, "all": tbl.Position()} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := tbl.WaitFor(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseToken: the text form of a 16-partition token back to a
// Token, as a server does per request.
func BenchmarkParseToken(b *testing.B) {
	ps := make([]ktables.Position, 16)
	for i := range ps {
		ps[i] = ktables.Position{Partition: int32(i), Offset: 1_000_000 + int64(i)}
	}
	tok, err := ktables.NewToken("feature-flags", ps...)
	if err != nil {
		b.Fatal(err)
	}
	s := tok.String()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ktables.ParseToken(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadYourWrite: from an acknowledged write to the table showing
// it, through WaitFor on the write's token and through Barrier, on a table
// with its own transport (as another process would have). Reports p50/p99.
// On memtransport both measure the reader's wake-up; Barrier adds its
// offsets request. Over the wire, see the bench module.
func BenchmarkReadYourWrite(b *testing.B) {
	c := memtransport.NewCluster()
	b.Cleanup(func() { c.Close() })
	ctx := context.Background()
	w, err := ktables.OpenWriter(ctx, c.Transport(), "ryw", ktables.Bytes(), ktables.WithPartitions(4))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	tbl, err := ktables.Open(ctx, c.Transport(), "ryw", ktables.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tbl.Close() })
	val := []byte("v")
	for _, mode := range []string{"waitfor", "barrier"} {
		b.Run(mode, func(b *testing.B) {
			var lat []time.Duration
			i := 0
			for b.Loop() {
				i++
				tok, err := w.SetWithToken(ctx, "k"+strconv.Itoa(i%1000), val)
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if mode == "waitfor" {
					err = tbl.WaitFor(ctx, tok)
				} else {
					err = tbl.Barrier(ctx)
				}
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}
