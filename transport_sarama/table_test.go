package saramatransport

import (
	"errors"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/internal/brokertest"
	"github.com/ktables/ktables/transport"
)

// waitStatus polls tbl's status until want or the deadline.
func waitStatus[V any](t *testing.T, tbl *ktables.Table[V], want ktables.Status, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for tbl.Status() != want {
		if time.Now().After(deadline) {
			t.Fatalf("status %v after %v, want %v (err %v)", tbl.Status(), d, want, tbl.Err())
		}
		time.Sleep(5 * time.Millisecond) // polling a status, not synchronizing
	}
}

// TestReliability runs the shared reliability checks over the wire:
// connection cuts during catch-up and live reading, an authorization error,
// wrong SASL credentials, unreachable brokers, a deleted topic.
func TestReliability(t *testing.T) {
	brokertest.RunReliability(t, brokertest.Adapter{
		Open:          func(seeds []string) (transport.Transport, error) { return New(seeds, nil) },
		SASLMechanism: "PLAIN",
		OpenSASL: func(seeds []string, user, password string) (transport.Transport, error) {
			cfg := NewConfig()
			cfg.Net.SASL.Enable = true
			cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
			cfg.Net.SASL.User, cfg.Net.SASL.Password = user, password
			return New(seeds, cfg)
		},
	})
}

// TestTableFailsOnAuthorization: an authorization error while reading
// fails the table, with the cause reachable (SPEC L2, X6).
func TestTableFailsOnAuthorization(t *testing.T) {
	c, seeds := brokertest.StartCluster(t)
	tr := newT(t, seeds, nil)
	topic := brokertest.NewTopic(t, tr, 1, nil)
	ctx := brokertest.Ctx(t, 30*time.Second)
	tbl, err := ktables.Open(ctx, tr, topic, ktables.String())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	brokertest.FailNext(t, c, kmsg.Fetch, topic, -1, kerr.TopicAuthorizationFailed)
	waitStatus(t, tbl, ktables.StatusFailed, 10*time.Second)
	err = tbl.Err()
	if !errors.Is(err, transport.ErrAuthorization) {
		t.Fatalf("Err: %v", err)
	}
	isKError(t, err, sarama.ErrTopicAuthorizationFailed)
	if err := tbl.Barrier(ctx); !errors.Is(err, ktables.ErrTableFailed) {
		t.Fatalf("Barrier on a failed table: %v", err)
	}
}
