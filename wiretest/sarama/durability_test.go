package saramawire

import (
	"errors"
	"testing"

	"github.com/IBM/sarama"

	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
	saramatransport "github.com/ktables/ktables/transport_sarama"
)

// SPEC W2: SetDurability reaches the wire: idempotence when asked for,
// leader acks; invalid combinations are config errors.
func TestDefaultsW2SetDurability(t *testing.T) {
	t.Run("idempotent", func(t *testing.T) {
		w, seeds := kafkatest.StartWatched(t)
		cfg := saramatransport.NewConfig()
		if err := saramatransport.SetDurability(cfg, transport.Durability{Idempotent: true}); err != nil {
			t.Fatal(err)
		}
		kafkatest.ProduceCompressible(t, newT(t, seeds, cfg), "defaults")
		if initPID, acks, _ := w.InitProducerIDs(), w.Acks(), w.Codecs(); initPID == 0 || len(acks) == 0 || acks[0] != -1 {
			t.Errorf("W2 idempotent producer: %d InitProducerID, acks %v", initPID, acks)
		}
	})
	t.Run("leader acks", func(t *testing.T) {
		w, seeds := kafkatest.StartWatched(t)
		cfg := saramatransport.NewConfig()
		if err := saramatransport.SetDurability(cfg, transport.Durability{Acks: transport.AcksLeader}); err != nil {
			t.Fatal(err)
		}
		kafkatest.ProduceCompressible(t, newT(t, seeds, cfg), "defaults")
		if initPID, acks, _ := w.InitProducerIDs(), w.Acks(), w.Codecs(); initPID != 0 || len(acks) == 0 || acks[0] != 1 {
			t.Errorf("W2 leader acks: %d InitProducerID, acks %v", initPID, acks)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		cfg := saramatransport.NewConfig()
		if err := saramatransport.SetDurability(cfg, transport.Durability{Acks: transport.AcksNone, Idempotent: true}); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Errorf("W2 idempotence without acks=all: %v", err)
		}
		if cfg.Producer.Idempotent || cfg.Producer.RequiredAcks != sarama.WaitForAll {
			t.Error("W2 a rejected durability changed the config")
		}
		if err := saramatransport.SetDurability(nil, transport.Durability{}); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Errorf("W2 nil config: %v", err)
		}
	})
}
