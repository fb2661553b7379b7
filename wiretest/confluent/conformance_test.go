//go:build cgo

package confluentwire

import (
	"errors"
	"strings"
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ktables/ktables/conformance"
	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
	confluenttransport "github.com/ktables/ktables/transport_confluent"
)

// conf is the ConfigMap of a transport over seeds, plus extra settings.
func conf(seeds []string, extra kafka.ConfigMap) kafka.ConfigMap {
	m := kafka.ConfigMap{"bootstrap.servers": strings.Join(seeds, ",")}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

var rcConf = kafka.ConfigMap{"isolation.level": "read_committed"}

// TestConformance runs the shared suite over the adapter against kfake (or
// KTABLES_BROKERS, without the cases that need broker control).
//
// Transports read committed records only: the suite's transaction cases
// require that aborted records are never delivered.
func TestConformance(t *testing.T) {
	h := kafkatest.NewHarness(t, func(seeds []string) (transport.Transport, error) {
		return confluenttransport.New(conf(seeds, rcConf))
	})
	// librdkafka retries the default retriable faults of produce
	// (CORRUPT_MESSAGE) and fetch (NOT_LEADER_FOR_PARTITION) inside
	// itself, where the core never sees them; it reports
	// THROTTLING_QUOTA_EXCEEDED, retriable in the shared table.
	h.FaultCodes[conformance.FaultProduce] = kerr.ThrottlingQuotaExceeded
	h.FaultCodes[conformance.FaultFetch] = kerr.ThrottlingQuotaExceeded
	conformance.Run(t, h)
}

// adapter opens the transports of the shared reliability and adapter
// checks.
var adapter = kafkatest.Adapter{
	Open:          func(seeds []string) (transport.Transport, error) { return confluenttransport.New(conf(seeds, nil)) },
	SASLMechanism: "SCRAM-SHA-256",
	OpenSASL: func(seeds []string, user, password string) (transport.Transport, error) {
		return confluenttransport.New(conf(seeds, kafka.ConfigMap{
			"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-256",
			"sasl.username": user, "sasl.password": password,
		}))
	},
	OpenIsolation: func(seeds []string, committed bool) (transport.Transport, error) {
		if committed {
			return confluenttransport.New(conf(seeds, rcConf))
		}
		return confluenttransport.New(conf(seeds, nil))
	},
	// librdkafka refreshes its metadata and fetches again after
	// NOT_LEADER_OR_FOLLOWER and UNKNOWN_TOPIC_OR_PARTITION: the fetcher
	// sees the data, not the error (a deleted topic is still reported).
	FetchRetriesInternally: true,
	// librdkafka takes about 7 s to assign 30,000 partitions, past the
	// check's 5 s context (Open still honours it; see the package doc).
	ManyPartitions: 10000,
	NativeCode: func(err error) (int16, bool) {
		var ke kafka.Error
		if errors.As(err, &ke) && ke.Code() >= 0 {
			return int16(ke.Code()), true
		}
		return 0, false
	},
}

func TestReliability(t *testing.T) { kafkatest.RunReliability(t, adapter) }

func TestAdapterChecks(t *testing.T) { kafkatest.RunAdapterChecks(t, adapter) }
