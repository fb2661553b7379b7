package bench

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// Every raw loop reads each partition from the log start to the end
// offsets, values intact, and keeps working after its writer is retuned:
// the baselines are correct before they are fast.
func TestRawLoopsReadEveryRecord(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := StartBroker(ctx, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const n, parts = 2000, 4
	for _, a := range Adapters {
		t.Run(a.Name, func(t *testing.T) {
			e := &Env{Ctx: ctx, Broker: b, Adapter: a}
			topic, err := seededTopic(e, "raw", parts, n, FlatKey)
			if err != nil {
				t.Fatal(err)
			}
			r, err := a.Raw(b.Seeds)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, keep, seen, err := rawLoadCounted(ctx, r, topic, parts, "bytes", false, true)
			if err != nil || got != n || seen != n {
				t.Fatalf("loaded %d keys from %d records, want %d: %v", got, seen, n, err)
			}
			m := keep.(map[string][]byte)
			for _, i := range []int{0, 1, n / 2, n - 1} {
				if v := m[string(FlatKey(i))]; !bytes.Equal(v, Value(i)) {
					t.Fatalf("key %d: value %q", i, v)
				}
			}
			if tu, ok := r.(writersTuner); ok {
				if err := tu.tuneWriters(8); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Produce(ctx, topic, 0, []byte("extra"), []byte("v")); err != nil {
				t.Fatal(err)
			}
			got, _, seen, err = rawLoadCounted(ctx, r, topic, parts, "bytes", false, false)
			if err != nil || got != n+1 || seen != n+1 {
				t.Fatalf("after a produce: %d keys from %d records: %v", got, seen, err)
			}
		})
	}
}
