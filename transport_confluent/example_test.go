//go:build cgo

package confluenttransport_test

import (
	"log/slog"
	"os"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	confluenttransport "github.com/ktables/ktables/transport_confluent"
)

// librdkafka's log lines (a refused connection, a broker gone) reach the
// program's logger at Warn and above; without WithLogger they are
// discarded and nothing is printed to stderr.
func ExampleWithLogger() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	tr, err := confluenttransport.New(kafka.ConfigMap{"bootstrap.servers": "localhost:9092"},
		confluenttransport.WithLogger(log.With(slog.String("component", "kafka"))))
	if err != nil {
		log.Error("open transport", slog.Any("error", err))
		return
	}
	defer tr.Close()
}
