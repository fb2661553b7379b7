// Package integration runs the conformance suite for every adapter against
// Apache Kafka in a container (KRaft, one broker), started with
// testcontainers-go. Without a Docker engine every test skips, saying why.
//
//	cd integration && go test -v ./...
//
// KTABLES_INTEGRATION_IMAGE picks the image (default
// confluentinc/confluent-local:7.9.0, Apache Kafka 3.9 in KRaft mode: the
// testcontainers-go v0.40.0 Kafka module starts only Confluent's packaging
// of Apache Kafka, see docs/adr/0005-integration-image.md).
package integration
