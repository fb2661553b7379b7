package franztransport_test

import (
	"fmt"
	"log"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables/transport"
	franztransport "github.com/ktables/ktables/transport_franz"
)

// The portable durability options: idempotence is opt-in (New disables
// kgo's idempotent producer otherwise), acks default to all. Compression
// stays off unless a kgo option asks for it.
func ExampleDurability() {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	opts, err := franztransport.Durability(transport.Durability{Acks: transport.AcksAll, Idempotent: true})
	if err != nil {
		log.Fatal(err)
	}
	tr, err := franztransport.New(c.ListenAddrs(), append(opts, kgo.ClientID("billing"))...)
	if err != nil {
		log.Fatal(err)
	}
	defer tr.Close()
	fmt.Println("idempotent transport ready")
	// Output: idempotent transport ready
}
