package ktables_test

import (
	"context"
	"testing"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
)

// BenchmarkApply1MObserved is BenchmarkApply1M/ktables with an observer
// that does nothing: what the observer seam costs when one is set (one
// event per fetch, not per record). Without an observer the seam is one
// length check per fetch; compare BenchmarkApply1M before and after.
func BenchmarkApply1MObserved(b *testing.B) {
	const n = 1_000_000
	c := memtransport.NewCluster()
	defer c.Close()
	seedTopic(b, c, "apply", 4, n, 100)
	ctx := context.Background()
	for b.Loop() {
		tbl, err := ktables.Open(ctx, c.Transport(), "apply", ktables.Bytes(), ktables.WithoutEnsureTopic(),
			ktables.WithObserver(ktables.NopObserver{}))
		if err != nil || tbl.Len() != n {
			b.Fatal(err)
		}
		tbl.Close()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkWriteObserved: a Set on memtransport with and without an
// observer; the difference is two clock reads and one event.
func BenchmarkWriteObserved(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts []ktables.Option
	}{{"none", nil}, {"nop", []ktables.Option{ktables.WithObserver(ktables.NopObserver{})}}} {
		b.Run(tc.name, func(b *testing.B) {
			tr := memtransport.New()
			defer tr.Close()
			w, err := ktables.OpenWriter(context.Background(), tr, "w", ktables.Bytes(), tc.opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			v := []byte("value")
			b.ReportAllocs()
			for b.Loop() {
				if err := w.Set(context.Background(), "key", v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
