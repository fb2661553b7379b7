//go:build !cgo

package confluenttransport

// confluent-kafka-go wraps librdkafka, a C library, through cgo. Built with
// CGO_ENABLED=0 this package fails to compile here, with the reason in the
// name of the missing identifier, instead of somewhere inside the client.
var _ = confluenttransport_requires_cgo_CGO_ENABLED_1
