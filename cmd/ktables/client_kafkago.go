package main

import (
	"fmt"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/ktables/ktables/transport"
	kafkagotransport "github.com/ktables/ktables/transport_kafkago"
)

// newKafkaGo maps the security settings to a kafka.Transport template.
func newKafkaGo(seeds []string, sec *security) (transport.Transport, error) {
	kt := &kafka.Transport{ClientID: clientID}
	if sec.tls != nil {
		kt.TLS = sec.tls.Clone()
	}
	var mech sasl.Mechanism
	var err error
	switch sec.mechanism {
	case "plain":
		mech = plain.Mechanism{Username: sec.user, Password: sec.password}
	case "scram-sha-256":
		mech, err = scram.Mechanism(scram.SHA256, sec.user, sec.password)
	case "scram-sha-512":
		mech, err = scram.Mechanism(scram.SHA512, sec.user, sec.password)
	}
	if err != nil {
		return nil, fmt.Errorf("SASL %s: %w", sec.mechanism, err)
	}
	kt.SASL = mech
	tr, err := kafkagotransport.New(seeds, kafkagotransport.WithTransport(kt))
	if err != nil {
		return nil, err
	}
	return tr, nil
}
