package bench

import (
	"fmt"
	"strings"

	"github.com/ktables/ktables/transport"
	franztransport "github.com/ktables/ktables/transport_franz"
	kafkagotransport "github.com/ktables/ktables/transport_kafkago"
	saramatransport "github.com/ktables/ktables/transport_sarama"
)

// Adapter is one transport module and the raw client it wraps.
type Adapter struct {
	Name   string
	Client string // the Kafka client library
	// Transport opens the adapter with default settings.
	Transport func(seeds []string) (transport.Transport, error) `json:"-"`
	// Raw opens the same client used directly.
	Raw func(seeds []string) (Raw, error) `json:"-"`
}

// Adapters lists every adapter the suite knows, in report order. Adding an
// adapter is one entry here plus its Raw baseline.
var Adapters = []Adapter{
	{
		Name: "franz", Client: "github.com/twmb/franz-go v1.22.3",
		Transport: func(s []string) (transport.Transport, error) { return franztransport.New(s) },
		Raw:       newRawFranz,
	},
	{
		Name: "sarama", Client: "github.com/IBM/sarama v1.61.1",
		Transport: func(s []string) (transport.Transport, error) {
			return saramatransport.New(s, saramatransport.NewConfig())
		},
		Raw: newRawSarama,
	},
	{
		Name: "kafkago", Client: "github.com/segmentio/kafka-go v0.4.51",
		Transport: func(s []string) (transport.Transport, error) { return kafkagotransport.New(s) },
		Raw:       newRawKafkaGo,
	},
}

// AdapterNames returns the known adapter names.
func AdapterNames() []string {
	var n []string
	for _, a := range Adapters {
		n = append(n, a.Name)
	}
	return n
}

// ParseAdapters parses a comma-separated list of adapter names ("" means
// all), rejecting unknown and duplicate names.
func ParseAdapters(list string) ([]Adapter, error) {
	if strings.TrimSpace(list) == "" {
		return Adapters, nil
	}
	var out []Adapter
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if seen[name] {
			return nil, fmt.Errorf("adapter %q listed twice", name)
		}
		seen[name] = true
		found := false
		for _, a := range Adapters {
			if a.Name == name {
				out = append(out, a)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown adapter %q (known: %s)", name, strings.Join(AdapterNames(), ", "))
		}
	}
	return out, nil
}
