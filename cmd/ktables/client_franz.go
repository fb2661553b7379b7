package main

import (
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/ktables/ktables/transport"
	franztransport "github.com/ktables/ktables/transport_franz"
)

// newFranz maps the security settings to kgo options.
func newFranz(seeds []string, sec *security) (transport.Transport, error) {
	opts := []kgo.Opt{kgo.ClientID(clientID)}
	if sec.tls != nil {
		opts = append(opts, kgo.DialTLSConfig(sec.tls.Clone()))
	}
	switch sec.mechanism {
	case "plain":
		opts = append(opts, kgo.SASL(plain.Auth{User: sec.user, Pass: sec.password}.AsMechanism()))
	case "scram-sha-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: sec.user, Pass: sec.password}.AsSha256Mechanism()))
	case "scram-sha-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: sec.user, Pass: sec.password}.AsSha512Mechanism()))
	}
	tr, err := franztransport.New(seeds, opts...)
	if err != nil {
		return nil, err
	}
	return tr, nil
}
