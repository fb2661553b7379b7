package bench

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkCatchup runs one catch-up case per adapter and side over kfake,
// for profiling (-cpuprofile with -bench 'Catchup/franz/kt'). The case comes
// from the environment: CATCHUP_RECORDS (default 100000), CATCHUP_PARTS
// (16), CATCHUP_CODEC (bytes), CATCHUP_GROUPED (false).
func BenchmarkCatchup(b *testing.B) {
	env := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	records, _ := strconv.Atoi(env("CATCHUP_RECORDS", "100000"))
	parts, _ := strconv.Atoi(env("CATCHUP_PARTS", "16"))
	codec := env("CATCHUP_CODEC", "bytes")
	grouped, _ := strconv.ParseBool(env("CATCHUP_GROUPED", "false"))
	ctx := context.Background()
	for _, a := range Adapters {
		b.Run(a.Name, func(b *testing.B) {
			br, err := StartBroker(ctx, nil, 10*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			defer br.Close()
			e := &Env{Ctx: ctx, Adapter: a, Broker: br}
			topic, err := seededTopic(e, "prof", int32(parts), records, GroupedKey)
			if err != nil {
				b.Fatal(err)
			}
			b.Run("kt", func(b *testing.B) {
				tr, err := a.Transport(br.Seeds)
				if err != nil {
					b.Fatal(err)
				}
				defer tr.Close()
				for b.Loop() {
					n, closeFn, err := ktLoad(ctx, tr, topic, codec, grouped)
					if err != nil || n != records {
						b.Fatalf("loaded %d of %d: %v", n, records, err)
					}
					closeFn()
				}
				b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
			b.Run("raw", func(b *testing.B) {
				raw, err := a.Raw(br.Seeds)
				if err != nil {
					b.Fatal(err)
				}
				defer raw.Close()
				for b.Loop() {
					n, _, err := rawLoad(ctx, raw, topic, int32(parts), codec, grouped)
					if err != nil || n != records {
						b.Fatalf("loaded %d of %d: %v", n, records, err)
					}
				}
				b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		})
	}
}
