// Command ktables is the command line of ktables for Go: a demo of the
// library against an embedded broker, an in-memory development broker, and
// tools to read, watch, write and manage table topics on any Kafka cluster.
//
// Usage:
//
//	ktables demo [--brokers B] [--duration 10s] [--ttl 3s] [--client franz|sarama|kafkago]
//	ktables broker [--listen 127.0.0.1:9092] [--partitions N]
//	ktables dump --brokers B --topic T [--grouped] [--format json|text] [--keys utf8|base64] [--values utf8|base64|json] [--wait-for TOKEN] [--ttl D]
//	ktables get --brokers B --topic T [--wait-for TOKEN] KEY | --grouped GROUP MEMBER
//	ktables watch --brokers B --topic T [--grouped] [--snapshot] [--coalesce] [--ttl D] [--duration D]
//	ktables status --brokers B --topic T [--format human|json]
//	ktables set --brokers B --topic T [--print-token] KEY VALUE | --grouped GROUP MEMBER VALUE
//	ktables delete --brokers B --topic T [--print-token] KEY | --grouped GROUP MEMBER
//	ktables ensure-topic --brokers B --topic T [--partitions N] [--replication-factor R] [--config k=v]... [--on-mismatch MODE]
//	ktables doctor --brokers B --topic T [--grouped] [--format human|json] [--max-offline D]
//	ktables version
//
// Every command that talks to a cluster takes --client (franz, sarama or
// kafkago), --timeout (bounding the whole command), TLS flags (--tls,
// --tls-ca, --tls-cert, --tls-key) and SASL flags (--sasl-mechanism,
// --sasl-user, --sasl-password). --brokers defaults to $KTABLES_BROKERS and
// --sasl-password to $KTABLES_SASL_PASSWORD.
//
// Errors are one "ktables: ..." line; a usage error adds "run 'ktables CMD
// --help'" and exits 2.
//
// Install it from a checkout (the module uses replace directives pointing at
// the sibling modules of the repository):
//
//	go install ./cmd/ktables
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
