package kafkatest_test

import (
	"context"
	"fmt"
	"log"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables/conformance"
	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
	franztransport "github.com/ktables/ktables/transport_franz"
)

// counting is a third-party transport: a decorator that counts the records
// produced through the franz-go adapter it wraps. Embedding the concrete
// adapter keeps its optional interfaces (PartitionAdder, TopicConfigurer,
// ReadCommitted, As), which the suite checks.
type counting struct {
	*franztransport.Transport
	produced *atomic.Int64
}

func (c counting) Produce(ctx context.Context, topic string, r transport.Record) (int64, error) {
	c.produced.Add(1)
	return c.Transport.Produce(ctx, topic, r)
}

var produced atomic.Int64

func openCounting(seeds []string, opts ...kgo.Opt) (transport.Transport, error) {
	tr, err := franztransport.New(seeds, opts...)
	if err != nil {
		return nil, err
	}
	return counting{tr, &produced}, nil
}

// runSuite is the whole contract over the decorator: the conformance suite,
// the reliability checks and the adapter checks, against kfake, or against
// the cluster named by KTABLES_BROKERS (then the cases that steer the broker
// skip).
func runSuite(t *testing.T) {
	// The conformance suite's transaction cases read committed records.
	committed := kgo.FetchIsolationLevel(kgo.ReadCommitted())
	conformance.Run(t, kafkatest.NewHarness(t, func(seeds []string) (transport.Transport, error) { return openCounting(seeds, committed) }))
	a := kafkatest.Adapter{
		Open: func(seeds []string) (transport.Transport, error) { return openCounting(seeds) }, // the defaults (SPEC W4)
		OpenIsolation: func(seeds []string, readCommitted bool) (transport.Transport, error) {
			if readCommitted {
				return openCounting(seeds, committed)
			}
			return openCounting(seeds)
		},
	}
	t.Run("reliability", func(t *testing.T) { kafkatest.RunReliability(t, a) })
	t.Run("adapter", func(t *testing.T) { kafkatest.RunAdapterChecks(t, a) })
}

// An adapter author runs the entire suite over their own transport, here a
// decorator around the franz-go adapter, with runSuite above in a _test.go
// file:
//
//	func TestMyTransport(t *testing.T) { runSuite(t) }
//
// and `go test` (kfake) or `KTABLES_BROKERS=host:9092 go test` (a cluster).
// The Adapter fields left nil (OpenSASL, NativeCode) skip the checks that
// need them, saying so. Below, the decorator is used over an in-process
// kfake broker as the suite uses it.
func Example_thirdPartyAdapter() {
	_ = runSuite // see above

	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	tr, err := openCounting(c.ListenAddrs())
	if err != nil {
		log.Fatal(err)
	}
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.CreateTopic(ctx, transport.TopicSpec{Name: "t", Partitions: 1}); err != nil {
		log.Fatal(err)
	}
	before := produced.Load()
	off, err := tr.Produce(ctx, "t", transport.Record{Key: []byte("k"), Value: []byte("v")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("offset", off, "produced through the decorator:", produced.Load()-before)
	// Output: offset 0 produced through the decorator: 1
}

// TestThirdPartyAdapter runs the Example's suite: the public kit is enough
// to check a transport defined outside this repository.
func TestThirdPartyAdapter(t *testing.T) {
	before := produced.Load()
	runSuite(t)
	if produced.Load() == before {
		t.Fatal("the suite produced nothing through the decorator")
	}
}
