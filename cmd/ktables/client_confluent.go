//go:build cgo

package main

import (
	"errors"
	"strings"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/ktables/ktables/transport"
	confluenttransport "github.com/ktables/ktables/transport_confluent"
)

// The confluent client wraps librdkafka through cgo: a binary built with
// CGO_ENABLED=0 offers the other clients only.
func init() { clients["confluent"] = newConfluent }

// newConfluent maps the security settings to a librdkafka ConfigMap.
func newConfluent(seeds []string, sec *security) (transport.Transport, error) {
	if sec.tls != nil {
		// librdkafka reads certificates from files (ssl.*), not from a
		// crypto/tls configuration.
		return nil, errors.New("TLS flags are not supported with --client confluent; use another client")
	}
	conf := kafka.ConfigMap{"bootstrap.servers": strings.Join(seeds, ","), "client.id": clientID}
	if sec.mechanism != "" {
		conf["security.protocol"] = "SASL_PLAINTEXT"
		conf["sasl.mechanism"] = strings.ToUpper(sec.mechanism)
		conf["sasl.username"] = sec.user
		conf["sasl.password"] = sec.password
	}
	return confluenttransport.New(conf)
}
