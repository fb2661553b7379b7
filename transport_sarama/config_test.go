package saramatransport

import (
	"testing"

	"github.com/IBM/sarama"
)

// New works on a copy of the caller's config, with what the transport
// needs set on the copy: acks returned, and a partitioner that honours the
// explicit partition (SPEC P1). New does not dial (lazy.go), so no broker is
// needed.
func TestNewCopiesConfig(t *testing.T) {
	seeds := []string{"127.0.0.1:1"}
	t.Run("caller config is not modified", func(t *testing.T) {
		cfg := sarama.NewConfig()
		tr, err := New(seeds, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		if cfg.Producer.Return.Successes || cfg.Net.Proxy.Enable {
			t.Fatal("New modified the caller's config")
		}
		if !tr.cfg.Producer.Return.Successes {
			t.Fatal("Return.Successes not set on the transport's copy")
		}
		if p, _ := tr.cfg.Producer.Partitioner("t").Partition(&sarama.ProducerMessage{Partition: 5, Key: sarama.StringEncoder("k")}, 8); p != 5 {
			t.Fatalf("partitioner chose %d for explicit partition 5", p)
		}
	})
}
