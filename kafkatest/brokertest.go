// Package kafkatest starts a Kafka-protocol broker for tests, as
// net/http/httptest starts an HTTP server, and runs the ktables contract
// over any transport.Transport against it.
//
// By default it runs franz-go's in-process fake broker (kfake), which speaks
// the real Kafka wire protocol to every client: no Docker, no network beyond
// loopback, and a fresh cluster per test. Set KTABLES_BROKERS to a
// comma-separated list of host:port seeds to point the same tests at an
// external cluster instead:
//
//	KTABLES_BROKERS=localhost:9092 go test ./...
//
// [Start] gives broker addresses and works in both modes. Tests that steer
// the broker (inject errors, enable SASL, compact on demand) use
// [StartCluster], which always runs kfake and skips, saying why, when
// KTABLES_BROKERS is set. [FailNext], [Fail] (kfake's Fault API) and
// [DropConnections] (kfake's ControlKey) inject faults into a kfake cluster.
// [Topic] names a fresh topic per test.
//
// For an adapter author, three entry points run the whole contract of
// docs/SPEC.md over a transport (see the package example):
//
//   - [NewHarness] implements conformance.Harness with its Compactor,
//     Transactor and FaultInjector features, for conformance.Run;
//   - [RunReliability] checks a table over the transport against broker
//     faults (SPEC L2, X6);
//   - [RunAdapterChecks] checks the transport-level details the suite does
//     not reach (SPEC R1, R4, X1–X7).
//
// Checks that need broker control skip on an external cluster; checks that
// need an optional [Adapter] field (SASL, isolation levels, native error
// codes) skip, naming the field, when it is nil.
//
// Quirks of kfake worth knowing (docs/SPEC.md, "Known client quirks"):
// topic auto-creation is off; it compacts more eagerly than Kafka (a
// compaction, triggered with Cluster.Compact, keeps only the last batch
// unconditionally and moves the log start offset); it does not validate
// topic configs.
package kafkatest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// EnvBrokers is the environment variable naming an external cluster:
// comma-separated host:port seed brokers.
const EnvBrokers = "KTABLES_BROKERS"

// External returns the seed brokers from KTABLES_BROKERS, or nil when the
// variable is unset or blank (then tests use an in-process kfake cluster).
func External() []string {
	var seeds []string
	for s := range strings.SplitSeq(os.Getenv(EnvBrokers), ",") {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
	return seeds
}

// Start returns the addresses of a broker for t: the external cluster named
// by KTABLES_BROKERS, or else a new single-broker kfake cluster that is
// closed when t finishes.
func Start(t testing.TB) []string {
	t.Helper()
	if seeds := External(); len(seeds) > 0 {
		return seeds
	}
	_, addrs := startKfake(t, kfake.NumBrokers(1))
	return addrs
}

// StartCluster starts a kfake cluster with opts (by default one broker;
// pass kfake.NumBrokers to change it) and returns it with its addresses. The
// cluster is closed when t finishes. Tests that need kfake itself (fault
// injection, SASL, on-demand compaction) use this; they are skipped, with
// the reason, when KTABLES_BROKERS selects an external cluster.
func StartCluster(t testing.TB, opts ...kfake.Opt) (*kfake.Cluster, []string) {
	t.Helper()
	if seeds := External(); len(seeds) > 0 {
		t.Skipf("needs the in-process kfake broker (fault injection or broker control); %s=%s selects an external cluster", EnvBrokers, strings.Join(seeds, ","))
	}
	return startKfake(t, append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
}

func startKfake(t testing.TB, opts ...kfake.Opt) (*kfake.Cluster, []string) {
	t.Helper()
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("kafkatest: starting kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c, c.ListenAddrs()
}

var topicSeq atomic.Uint64

// maxTopicLen is Kafka's limit on topic name length.
const maxTopicLen = 249

// Topic returns a topic name unique within the process and valid for Kafka,
// derived from t.Name(): characters outside [a-zA-Z0-9._-] become '_', the
// result is cut to fit 249 characters and gets a counter and random suffix so
// that reruns against an external cluster do not collide. Topic does not
// create the topic (kfake's auto-creation is off).
func Topic(t testing.TB) string {
	t.Helper()
	suffix := fmt.Sprintf("-%d-%08x", topicSeq.Add(1), rand.Uint32())
	return topicName(t.Name(), suffix)
}

func topicName(name, suffix string) string {
	var b strings.Builder
	b.WriteString("kt-")
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	base := b.String()
	if max := maxTopicLen - len(suffix); len(base) > max {
		base = base[:max]
	}
	return base + suffix
}

// Fail installs kfake faults on c: requests matching each fault are answered
// with its error code instead of being served. It is a thin wrapper over
// kfake's Cluster.Fault, removed when t finishes. See [kfake.Fault] for the
// selectors (request keys, topic, partitions, count).
func Fail(t testing.TB, c *kfake.Cluster, faults ...kfake.Fault) *kfake.FaultHandle {
	t.Helper()
	h := c.Fault(faults...)
	t.Cleanup(h.Remove)
	return h
}

// FailNext makes the next n requests of kind key touching topic ("" for any
// topic) fail with err; n < 0 means every such request until the test ends.
// For example, to deny reading a topic:
//
//	kafkatest.FailNext(t, c, kmsg.Fetch, topic, -1, kerr.TopicAuthorizationFailed)
//
// Requests with per-partition error codes (Fetch, ListOffsets, Produce)
// carry the code per partition; others per topic or at the top level, as a
// real broker would answer.
func FailNext(t testing.TB, c *kfake.Cluster, key kmsg.Key, topic string, n int, err *kerr.Error) *kfake.FaultHandle {
	t.Helper()
	if n == 0 {
		t.Fatalf("kafkatest: FailNext with n == 0 injects nothing")
	}
	return Fail(t, c, kfake.Fault{
		Keys:  []kmsg.Key{key},
		Topic: topic,
		Err:   err,
		Count: n,
	})
}

// ErrDropped is what DropConnections answers with: kfake closes the client
// connection, which the client sees as a network error (EOF or reset).
var ErrDropped = errors.New("kafkatest: connection dropped by fault injection")

// DropConnections closes the connection of the next n requests of kind key
// (n < 0: every such request until the test ends), simulating a broker that
// goes away mid-request. It is built on kfake's ControlKey. It returns a
// function reporting how many requests were dropped so far.
func DropConnections(t testing.TB, c *kfake.Cluster, key kmsg.Key, n int) (dropped func() int64) {
	t.Helper()
	var count atomic.Int64
	var stopped atomic.Bool
	t.Cleanup(func() { stopped.Store(true) })
	c.ControlKey(int16(key), func(kmsg.Request) (kmsg.Response, error, bool) {
		if stopped.Load() || (n >= 0 && count.Load() >= int64(n)) {
			c.DropControl()
			return nil, nil, false
		}
		c.KeepControl()
		count.Add(1)
		return nil, ErrDropped, true
	})
	return count.Load
}
