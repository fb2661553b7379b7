package kafkagowire

import (
	"errors"
	"testing"

	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
	kafkagotransport "github.com/ktables/ktables/transport_kafkago"
)

// SPEC W2: WithDurability maps acks onto the wire; idempotence, which
// kafka-go cannot do, is a config error at construction.
func TestDefaultsW2WithDurability(t *testing.T) {
	w, seeds := kafkatest.StartWatched(t)
	kafkatest.ProduceCompressible(t, newT(t, seeds, kafkagotransport.WithDurability(transport.Durability{Acks: transport.AcksLeader})), "defaults")
	if _, acks, _ := w.InitProducerIDs(), w.Acks(), w.Codecs(); len(acks) == 0 || acks[0] != 1 {
		t.Errorf("W2 leader acks: %v", acks)
	}
	for _, d := range []transport.Durability{{Idempotent: true}, {Acks: transport.AcksLeader, Idempotent: true}} {
		if _, err := kafkagotransport.New(seeds, kafkagotransport.WithDurability(d)); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Errorf("W2 %+v: %v", d, err)
		}
	}
}
