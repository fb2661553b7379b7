package kafkatest

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

// Adapter tells RunReliability and RunAdapterChecks how to open an
// adapter's transport.
type Adapter struct {
	// Open returns a transport for seeds with default settings.
	Open func(seeds []string) (transport.Transport, error)
	// OpenSASL returns a transport authenticating with SASLMechanism
	// ("PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"). It may fail itself on
	// bad credentials; then the error must say so.
	OpenSASL      func(seeds []string, user, password string) (transport.Transport, error)
	SASLMechanism string
	// OpenIsolation returns a transport that reads committed records only,
	// or every record (read uncommitted). Optional: without it
	// RunAdapterChecks skips the isolation check.
	OpenIsolation func(seeds []string, readCommitted bool) (transport.Transport, error)
	// NativeCode returns the Kafka error code carried by the client's own
	// error type (*kerr.Error, sarama.KError, kafka.Error) reachable from
	// err with errors.As, and whether there is one. The checks ask that
	// errors a broker answered keep it reachable (SPEC X6).
	NativeCode func(err error) (code int16, ok bool)
	// FetchRetriesInternally says the client retries a fetch answered
	// NOT_LEADER_OR_FOLLOWER or UNKNOWN_TOPIC_OR_PARTITION inside itself
	// (librdkafka refreshes its metadata and fetches again), so a fetcher
	// does not see these errors while they are transient. For those two
	// faults, RunAdapterChecks' X6/fetch_errors_classified then checks
	// that the fault was met, that the data still arrives once it clears
	// (SPEC X3) and that an error surfacing meanwhile has the right kind
	// (SPEC X6), instead of requiring Poll to report it. A deleted topic
	// must be reported either way.
	FetchRetriesInternally bool
	// ManyPartitions, when positive, is the partition count of
	// RunRecovery's many-partitions check for this client, in place of
	// the default (EnvManyPartitions still wins). For a client that cannot
	// assign the default count within the check's 5 s (librdkafka takes
	// about 7 s for 30,000 partitions); the check still proves Open honours
	// its context at that size.
	ManyPartitions int32
}

// RunReliability checks a table over the adapter against kfake faults
// (issue: reliability over the wire): connections cut during catch-up and
// live reading leave the table equal to a last-write-wins oracle and caught
// up; an authorization failure fails the table with ErrAuthorization; wrong
// SASL credentials and unreachable brokers fail Open clearly within its
// deadline; a topic deleted under a live table fails it with
// ErrUnknownTopic. Each test runs its own kfake cluster (and skips on an
// external one); each name starts with the docs/SPEC.md clause it checks.
// Only a.Open is required; the SASL check skips when OpenSASL is nil.
func RunReliability(t *testing.T, a Adapter) {
	if a.Open == nil {
		t.Fatal("kafkatest: Adapter.Open is required")
	}
	t.Run("L2/connection_cut_during_catch_up", func(t *testing.T) { connectionCut(t, a, true) })
	t.Run("L2/connection_cut_while_live", func(t *testing.T) { connectionCut(t, a, false) })
	t.Run("L2/authorization_failure_fails_table", func(t *testing.T) { authorizationFailure(t, a) })
	t.Run("L3/wrong_sasl_credentials_fail_open", func(t *testing.T) { wrongSASL(t, a) })
	t.Run("L3/unreachable_brokers_honour_deadline", func(t *testing.T) { unreachable(t, a) })
	t.Run("L2/deleted_topic_fails_table", func(t *testing.T) { deletedTopic(t, a) })
	t.Run("L6/race_cancel_during_open", func(t *testing.T) { raceCancelDuringOpen(t, a) })
	t.Run("B7/race_close_during_50_barriers", func(t *testing.T) { raceCloseDuringBarriers(t, a) })
	t.Run("H1/race_close_from_hook", func(t *testing.T) { raceCloseFromHook(t, a) })
	t.Run("L6/race_set_during_writer_close", func(t *testing.T) { raceSetDuringWriterClose(t, a) })
}

func reliabilityCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func openTransport(t *testing.T, a Adapter, seeds []string) transport.Transport {
	t.Helper()
	tr, err := a.Open(seeds)
	if err != nil {
		t.Fatalf("open transport: %v", err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// oracleWriter writes random upserts and tombstones and remembers the
// last-write-wins result.
type oracleWriter struct {
	w      *ktables.Writer[[]byte]
	rng    *rand.Rand
	oracle map[string]string
}

func (o *oracleWriter) write(ctx context.Context, t *testing.T, n int) {
	t.Helper()
	for range n {
		k := "k" + strconv.Itoa(o.rng.IntN(300))
		if o.rng.IntN(6) == 0 {
			if err := o.w.Delete(ctx, k); err != nil {
				t.Fatalf("delete: %v", err)
			}
			delete(o.oracle, k)
			continue
		}
		v := strconv.Itoa(o.rng.Int())
		if err := o.w.Set(ctx, k, []byte(v)); err != nil {
			t.Fatalf("set: %v", err)
		}
		o.oracle[k] = v
	}
}

func checkOracle(t *testing.T, tbl *ktables.Table[[]byte], oracle map[string]string) {
	t.Helper()
	got := tbl.Snapshot()
	if len(got) != len(oracle) {
		t.Fatalf("table has %d keys, oracle %d", len(got), len(oracle))
	}
	for k, v := range oracle {
		if string(got[k]) != v {
			t.Fatalf("key %s = %q, oracle %q", k, got[k], v)
		}
	}
	if s := tbl.Status(); s != ktables.StatusCaughtUp {
		t.Fatalf("status %v, want caught up", s)
	}
}

func connectionCut(t *testing.T, a Adapter, duringCatchUp bool) {
	c, seeds := StartCluster(t)
	ctx := reliabilityCtx(t, 60*time.Second)
	tr := openTransport(t, a, seeds)
	topic := Topic(t)
	w, err := ktables.OpenWriter(ctx, tr, topic, ktables.Bytes(), ktables.WithPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	o := &oracleWriter{w: w, rng: rand.New(rand.NewPCG(1, 2)), oracle: map[string]string{}}
	o.write(ctx, t, 2000)

	reader := openTransport(t, a, seeds)
	opts := []ktables.Option{ktables.WithRetryBackoff(5*time.Millisecond, 50*time.Millisecond)}
	var dropped func() int64
	if duringCatchUp {
		dropped = DropConnections(t, c, kmsg.Fetch, 3)
	}
	tbl, err := ktables.Open(ctx, reader, topic, ktables.Bytes(), opts...)
	if err != nil {
		t.Fatalf("open with cut connections: %v", err)
	}
	defer tbl.Close()
	if !duringCatchUp {
		dropped = DropConnections(t, c, kmsg.Fetch, 3)
		o.write(ctx, t, 1000)
		waitFor(t, ctx, "the cuts to happen", func() bool { return dropped() >= 3 })
	}
	if err := barrierRetrying(ctx, tbl); err != nil {
		t.Fatalf("barrier: %v", err)
	}
	checkOracle(t, tbl, o.oracle)
	if dropped() == 0 {
		t.Fatal("no connection was cut: the test proved nothing")
	}
}

// barrierRetrying retries a barrier whose offsets request hit a cut
// connection: the caller's retry, as the barrier itself does not retry.
func barrierRetrying(ctx context.Context, tbl *ktables.Table[[]byte]) error {
	for {
		err := tbl.Barrier(ctx)
		if err == nil || !transport.IsRetriable(err) || ctx.Err() != nil {
			return err
		}
	}
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// authorizationFailure: an authorization error while reading fails the
// table with the cause (and the client's native error) reachable, keeps
// what it had read, and fails a barrier at once (SPEC L2, X6).
func authorizationFailure(t *testing.T, a Adapter) {
	c, seeds := StartCluster(t)
	ctx := reliabilityCtx(t, 30*time.Second)
	tr := openTransport(t, a, seeds)
	topic := NewTopic(t, tr, 1, nil)
	Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
	tbl, err := ktables.Open(ctx, tr, topic, ktables.Bytes(), ktables.WithFetchMaxWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	FailNext(t, c, kmsg.Fetch, topic, -1, kerr.TopicAuthorizationFailed)
	waitFor(t, ctx, "status failed", func() bool { return tbl.Status() == ktables.StatusFailed })
	if !errors.Is(tbl.Err(), transport.ErrAuthorization) {
		t.Fatalf("Err() = %v, want ErrAuthorization", tbl.Err())
	}
	checkNative(t, a, tbl.Err())
	if got, _ := tbl.Get("k"); string(got) != "v" {
		t.Errorf("frozen contents lost: k = %q, want v", got)
	}
	start := time.Now()
	if err := tbl.Barrier(ctx); !errors.Is(err, ktables.ErrTableFailed) || !errors.Is(err, transport.ErrAuthorization) {
		t.Fatalf("barrier on the failed table: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("barrier on a failed table took %v", d)
	}
}

func wrongSASL(t *testing.T, a Adapter) {
	if a.OpenSASL == nil || a.SASLMechanism == "" {
		t.Skip("Adapter.OpenSASL or SASLMechanism is unset: SASL not checked")
	}
	_, seeds := StartCluster(t, kfake.EnableSASL(), kfake.Superuser(a.SASLMechanism, "admin", "secret"))
	ctx := reliabilityCtx(t, 10*time.Second)
	start := time.Now()
	tr, err := a.OpenSASL(seeds, "admin", "wrong")
	if err == nil {
		defer tr.Close()
		_, err = ktables.Open(ctx, tr, Topic(t), ktables.Bytes())
	}
	if err == nil {
		t.Fatal("opened a table with a wrong password")
	}
	if ctx.Err() != nil {
		t.Fatalf("no clear error before the deadline: %v", err)
	}
	if !errors.Is(err, transport.ErrAuthentication) {
		t.Fatalf("wrong password: %v (want ErrAuthentication)", err)
	}
	t.Logf("failed in %v: %v", time.Since(start).Round(time.Millisecond), err)

	good, err := a.OpenSASL(seeds, "admin", "secret")
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	defer good.Close()
	tbl, err := ktables.Open(reliabilityCtx(t, 10*time.Second), good, Topic(t), ktables.Bytes())
	if err != nil {
		t.Fatalf("open with the right password: %v", err)
	}
	tbl.Close()
}

func unreachable(t *testing.T, a Adapter) {
	// A port nothing listens on: connections are refused at once.
	seeds := []string{"127.0.0.1:1"}
	start := time.Now()
	tr, err := a.Open(seeds)
	if err == nil {
		defer tr.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err = ktables.Open(ctx, tr, "unreachable", ktables.Bytes())
	}
	if err == nil {
		t.Fatal("opened a table on an unreachable broker")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Open overran its 2s deadline: %v", d)
	}
	t.Logf("failed in %v: %v", time.Since(start).Round(time.Millisecond), err)
}

// deletedTopic: a live table whose topic is deleted fails with
// ErrUnknownTopic (documented: it does not follow a re-created topic).
func deletedTopic(t *testing.T, a Adapter) {
	_, seeds := StartCluster(t)
	ctx := reliabilityCtx(t, 30*time.Second)
	tr := openTransport(t, a, seeds)
	topic := Topic(t)
	tbl, err := ktables.Open(ctx, tr, topic, ktables.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).DeleteTopic(ctx, topic); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "status failed", func() bool { return tbl.Status() == ktables.StatusFailed })
	if !errors.Is(tbl.Err(), transport.ErrUnknownTopic) {
		t.Fatalf("Err() = %v, want ErrUnknownTopic", tbl.Err())
	}
}
