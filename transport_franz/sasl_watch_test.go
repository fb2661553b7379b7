package franztransport

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// The SASL watch is switched off for clients without SASL (no cost per
// produce); it must recognise those that have it.
func TestUsesSASL(t *testing.T) {
	a, _ := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"))
	b, _ := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"), kgo.SASL(plain.Auth{User: "u", Pass: "p"}.AsMechanism()))
	defer a.Close()
	defer b.Close()
	if usesSASL(a) || !usesSASL(b) {
		t.Fatal(usesSASL(a), usesSASL(b))
	}
}
