package franzwire

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
	franztransport "github.com/ktables/ktables/transport_franz"
)

// SPEC W2: the portable durability options reach the wire: idempotence when
// asked for, leader acks; the caller's native compression still wins.
func TestDefaultsW2Durability(t *testing.T) {
	t.Run("idempotent", func(t *testing.T) {
		w, seeds := kafkatest.StartWatched(t)
		opts, err := franztransport.Durability(transport.Durability{Idempotent: true})
		if err != nil {
			t.Fatal(err)
		}
		kafkatest.ProduceCompressible(t, newT(t, seeds, opts...), "defaults")
		if initPID, acks, _ := w.InitProducerIDs(), w.Acks(), w.Codecs(); initPID == 0 || len(acks) == 0 || acks[0] != -1 {
			t.Errorf("W2 idempotent producer: %d InitProducerID, acks %v", initPID, acks)
		}
	})
	t.Run("leader acks and native compression", func(t *testing.T) {
		w, seeds := kafkatest.StartWatched(t)
		opts, err := franztransport.Durability(transport.Durability{Acks: transport.AcksLeader})
		if err != nil {
			t.Fatal(err)
		}
		kafkatest.ProduceCompressible(t, newT(t, seeds, append(opts, kgo.ProducerBatchCompression(kgo.SnappyCompression()))...), "defaults")
		initPID, acks, codecs := w.InitProducerIDs(), w.Acks(), w.Codecs()
		if initPID != 0 || len(acks) == 0 || acks[0] != 1 {
			t.Errorf("W2 leader acks: %d InitProducerID, acks %v", initPID, acks)
		}
		if len(codecs) == 0 || codecs[0] != 2 {
			t.Errorf("W4 opted-in snappy: codecs %v", codecs)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		if _, err := franztransport.Durability(transport.Durability{Acks: transport.AcksLeader, Idempotent: true}); !errors.Is(err, transport.ErrInvalidConfig) {
			t.Errorf("W2 idempotence without acks=all: %v", err)
		}
	})
}
