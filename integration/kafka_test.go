package integration

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/kafka"
)

// DefaultImage is Apache Kafka 3.9 (Confluent's packaging, KRaft), the newest
// line the testcontainers-go v0.40.0 Kafka module can start.
const DefaultImage = "confluentinc/confluent-local:7.9.0"

var (
	startOnce sync.Once
	seeds     []string
	startErr  error
	container *kafka.KafkaContainer
)

// brokers starts one Kafka container for the whole package (the first test
// pays for it) and returns its seed addresses. Without a Docker engine the
// test is skipped with testcontainers' reason.
func brokers(t *testing.T) []string {
	t.Helper()
	testcontainers.SkipIfProviderIsNotHealthy(t)
	startOnce.Do(func() {
		image := os.Getenv("KTABLES_INTEGRATION_IMAGE")
		if image == "" {
			image = DefaultImage
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		container, startErr = kafka.Run(ctx, image, kafka.WithClusterID("ktables-integration"))
		if startErr != nil {
			return
		}
		seeds, startErr = container.Brokers(ctx)
	})
	if startErr != nil {
		t.Fatalf("starting Kafka: %v", startErr)
	}
	return seeds
}

func TestMain(m *testing.M) {
	code := m.Run()
	if container != nil {
		_ = testcontainers.TerminateContainer(container)
	}
	os.Exit(code)
}
