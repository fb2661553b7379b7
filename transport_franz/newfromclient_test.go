package franztransport

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// A caller's client produces for the transport only when its partitioner
// honours the explicit partition (SPEC P1); otherwise the transport keeps a
// producer of its own. kgo clients dial lazily, so no broker is needed. (The
// records landing on the explicit partitions is checked over the wire in
// wiretest/franz.)
func TestNewFromClientChoosesProducer(t *testing.T) {
	for _, c := range []struct {
		name   string
		opts   []kgo.Opt
		useOwn bool
	}{
		{"default partitioner", nil, false},
		{"manual partitioner", []kgo.Opt{kgo.RecordPartitioner(kgo.ManualPartitioner())}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}, c.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			tr, err := NewFromClient(cl)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			if got := tr.prod == cl; got != c.useOwn {
				t.Fatalf("caller's client used to produce: %v, want %v", got, c.useOwn)
			}
		})
	}
}
