package franztransport_test

import (
	"log"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables/transport"
	franztransport "github.com/ktables/ktables/transport_franz"
)

// The portable durability options: idempotence is opt-in (New disables
// kgo's idempotent producer otherwise), acks default to all. Compression
// stays off unless a kgo option asks for it. It needs a broker at
// localhost:9092, so it is compiled but not run; wiretest/franz proves the
// options on the wire.
func ExampleDurability() {
	opts, err := franztransport.Durability(transport.Durability{Acks: transport.AcksAll, Idempotent: true})
	if err != nil {
		log.Fatal(err)
	}
	tr, err := franztransport.New([]string{"localhost:9092"}, append(opts, kgo.ClientID("billing"))...)
	if err != nil {
		log.Fatal(err)
	}
	defer tr.Close()
}
