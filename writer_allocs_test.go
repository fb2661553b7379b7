package ktables_test

import (
	"context"
	"testing"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// ackAll acknowledges every Produce at once: what is left is the writer's
// own cost.
type ackAll struct{ transport.Transport }

func (ackAll) Produce(context.Context, string, transport.Record) (int64, error) { return 1, nil }

// Issue 17: under many concurrent writers every allocation per write costs
// throughput (the in-process broker's heap makes each collection dear). A
// Set with the built-in key formats allocates nothing of its own.
func TestWriterSetAllocatesNothing(t *testing.T) {
	for name, f := range map[string]ktables.KeyFormat{"utf8": ktables.UTF8Keys(), "raw": ktables.RawKeys()} {
		t.Run(name, func(t *testing.T) {
			mt := memtransport.New()
			defer mt.Close()
			w, err := ktables.OpenWriter(context.Background(), ackAll{mt}, "w", ktables.Bytes(), ktables.WithKeyFormat(f))
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			ctx, key, v := context.Background(), "key", []byte("value")
			if n := testing.AllocsPerRun(100, func() {
				if err := w.Set(ctx, key, v); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Fatalf("%v allocations per Set", n)
			}
		})
	}
}

// The key bytes sent are the key's, and the empty key is sent as an empty,
// non-nil key (a nil key is keyless).
func TestWriterSendsKeyBytes(t *testing.T) {
	c := memtransport.NewCluster()
	defer c.Close()
	if err := c.CreateTopic(transport.TopicSpec{Name: "k", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	w, err := ktables.OpenWriter(context.Background(), c.Transport(), "k", ktables.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, k := range []string{"", "kéy"} {
		if err := w.Set(context.Background(), k, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	recs, _ := c.Records("k", 0)
	if len(recs) != 2 || recs[0].Key == nil || len(recs[0].Key) != 0 || string(recs[1].Key) != "kéy" {
		t.Fatalf("keys on the wire: %#v", recs)
	}
}
