//go:build cgo

package main

import (
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
	conf := kafka.ConfigMap{"bootstrap.servers": strings.Join(seeds, ","), "client.id": clientID}
	protocol := "PLAINTEXT"
	if sec.tls != nil {
		// librdkafka reads the PEM files itself (ssl.*), not a crypto/tls
		// configuration; the files were already checked by loading them.
		protocol = "SSL"
		for key, file := range map[string]string{"ssl.ca.location": sec.caFile, "ssl.certificate.location": sec.certFile, "ssl.key.location": sec.keyFile} {
			if file != "" {
				conf[key] = file
			}
		}
	}
	if sec.mechanism != "" {
		protocol = "SASL_" + protocol
		conf["sasl.mechanism"] = strings.ToUpper(sec.mechanism)
		conf["sasl.username"] = sec.user
		conf["sasl.password"] = sec.password
	}
	conf["security.protocol"] = protocol
	return confluenttransport.New(conf)
}
