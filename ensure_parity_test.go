package ktables_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// logRecorder is a slog handler that keeps every record, to check levels
// and attributes.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

// find returns the first record whose message contains msg.
func (h *logRecorder) find(msg string) (slog.Record, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := slices.IndexFunc(h.recs, func(r slog.Record) bool { return strings.Contains(r.Message, msg) })
	if i < 0 {
		return slog.Record{}, false
	}
	return h.recs[i], true
}

func attr(r slog.Record, key string) (slog.Value, bool) {
	var v slog.Value
	found := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v, found = a.Value, true
			return false
		}
		return true
	})
	return v, found
}

// policyless answers describes without a cleanup.policy entry, as a
// Kafka-compatible broker may; it counts alters.
type policyless struct {
	*memtransport.Transport
	alters int
}

func (p *policyless) DescribeTopicConfig(ctx context.Context, topic string) ([]transport.ConfigEntry, error) {
	entries, err := p.Transport.DescribeTopicConfig(ctx, topic)
	return slices.DeleteFunc(entries, func(e transport.ConfigEntry) bool { return e.Name == "cleanup.policy" }), err
}

func (p *policyless) AlterTopicConfig(ctx context.Context, topic string, set map[string]string) error {
	p.alters++
	return p.Transport.AlterTopicConfig(ctx, topic, set)
}

// SPEC E2 (issue 15 item 1): a policy mismatch under fail is returned at
// once by Open and OpenWriter, never retried until a timeout, and an
// OpenWriter whose context has no deadline returns.
func TestEnsureE2FailIsNotRetried(t *testing.T) {
	c := newCluster(t)
	tr := c.Transport()
	deleteTopic(t, c, "del", map[string]string{"cleanup.policy": "delete"})
	fail := ktables.WithOnMismatch(ktables.OnMismatchFail)

	before := c.Calls(memtransport.OpDescribeConfig)
	start := time.Now()
	_, err := ktables.Open(testCtx(t), tr, "del", ktables.Bytes(), fail, ktables.WithCatchUpTimeout(time.Minute))
	var pe *ktables.TopicPolicyError
	if !errors.As(err, &pe) || pe.Actual != "delete" || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("E2 Open under fail: %v", err)
	}
	if n := c.Calls(memtransport.OpDescribeConfig) - before; n != 1 {
		t.Fatalf("E2 Open retried a policy mismatch: %d describes in %s", n, time.Since(start))
	}

	done := make(chan error, 1)
	go func() {
		_, err := ktables.OpenWriter(context.Background(), tr, "del", ktables.Bytes(), fail)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ktables.ErrTopicPolicyMismatch) {
			t.Fatalf("E2 OpenWriter under fail: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("E2 OpenWriter with a context without deadline did not return on a policy mismatch")
	}

	// An unreadable policy under fail is not retried either.
	pl := &policyless{Transport: tr}
	before = c.Calls(memtransport.OpDescribeConfig)
	_, err = ktables.Open(testCtx(t), pl, "del", ktables.Bytes(), fail, ktables.WithCatchUpTimeout(time.Minute))
	if !errors.Is(err, ktables.ErrTopicPolicyUnreadable) {
		t.Fatalf("E2 Open, policy unreadable under fail: %v", err)
	}
	if n := c.Calls(memtransport.OpDescribeConfig) - before; n != 1 {
		t.Fatalf("E2 Open retried an unreadable policy: %d describes", n)
	}
}

// SPEC E2 (items 2, 3, 6): the outcome reports the policy read — none on
// create, the old one on reconcile; reconcile keeps a declared compacting
// policy, notes retention at info and counts the overrides it preserved.
func TestEnsureE2OutcomePolicyAndReconcile(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	tr := c.Transport()

	res, err := ktables.EnsureTopic(ctx, tr, "fresh")
	if err != nil || res.Outcome != ktables.OutcomeCreated || res.Policy != "" {
		t.Fatalf("E2 created reads no policy: %+v %v", res, err)
	}

	deleteTopic(t, c, "del", map[string]string{"cleanup.policy": "delete", "retention.ms": "1000", "segment.ms": "60000"})
	logs := &logRecorder{}
	res, err = ktables.EnsureTopic(ctx, tr, "del", ktables.WithOnMismatch(ktables.OnMismatchReconcile),
		ktables.WithTopicConfig("cleanup.policy", "compact,delete"), ktables.WithLogger(slog.New(logs)))
	if err != nil || res.Outcome != ktables.OutcomeReconciled || res.Policy != "delete" {
		t.Fatalf("E2 reconciled reports the policy found before: %+v %v", res, err)
	}
	cfg, _ := c.TopicConfig("del")
	if cfg["cleanup.policy"] != "compact,delete" || cfg["retention.ms"] != "1000" || cfg["segment.ms"] != "60000" {
		t.Fatalf("E2 reconcile must keep the declared policy and the overrides: %v", cfg)
	}
	r, ok := logs.find("reconciled")
	if !ok {
		t.Fatal("E2 reconcile logged nothing")
	}
	if v, ok := attr(r, "overrides_preserved"); !ok || v.Int64() != 2 {
		t.Fatalf("E2 reconcile log must count preserved overrides (2): %v %v", v, ok)
	}
	if r, ok := logs.find("retention can still evict keys"); !ok || r.Level != slog.LevelInfo {
		t.Fatalf("E2 compact,delete note must be info: %v %v", r.Level, ok)
	}

	// Once reconciled, a check reads the compacting policy; the retention
	// note stays info.
	logs = &logRecorder{}
	res, err = ktables.EnsureTopic(ctx, tr, "del", ktables.WithLogger(slog.New(logs)))
	if err != nil || res.Outcome != ktables.OutcomeVerified || res.Policy != "compact,delete" {
		t.Fatalf("E2 verified: %+v %v", res, err)
	}
	if r, ok := logs.find("retention can still evict keys"); !ok || r.Level != slog.LevelInfo {
		t.Fatalf("E2 compact,delete note must be info: %v %v", r.Level, ok)
	}
}

// SPEC E2 (items 4, 5, 6): a describe answer without cleanup.policy is
// unreadable — warn logs at info and goes on; fail and reconcile return an
// error saying so and alter nothing. A describe error under reconcile is
// returned, not reported as unreadable in silence.
func TestEnsureE2Unreadable(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	deleteTopic(t, c, "del", map[string]string{"cleanup.policy": "delete"})
	pl := &policyless{Transport: c.Transport()}

	logs := &logRecorder{}
	res, err := ktables.EnsureTopic(ctx, pl, "del", ktables.WithLogger(slog.New(logs)))
	if err != nil || res.Outcome != ktables.OutcomeUnreadable || res.Policy != "" {
		t.Fatalf("E2 missing entry under warn: %+v %v", res, err)
	}
	if r, ok := logs.find("not verified"); !ok || r.Level != slog.LevelInfo {
		t.Fatalf("E2 'policy not verified' must be info: %v %v", r.Level, ok)
	}
	for _, m := range []ktables.MismatchMode{ktables.OnMismatchFail, ktables.OnMismatchReconcile} {
		res, err := ktables.EnsureTopic(ctx, pl, "del", ktables.WithOnMismatch(m))
		if !errors.Is(err, ktables.ErrTopicPolicyUnreadable) || errors.Is(err, ktables.ErrTopicPolicyMismatch) ||
			res.Outcome != ktables.OutcomeUnreadable {
			t.Fatalf("E2 missing entry under %s: %+v %v", m, res, err)
		}
	}
	if pl.alters != 0 {
		t.Fatalf("E2 a topic whose policy could not be read was altered %d times", pl.alters)
	}
	if cfg, _ := c.TopicConfig("del"); cfg["cleanup.policy"] != "delete" {
		t.Fatalf("E2 unreadable topic changed: %v", cfg)
	}

	c.FailNext(memtransport.OpDescribeConfig, 1, transport.NewError("describe", "del", transport.ErrAuthorization, nil))
	res, err = ktables.EnsureTopic(ctx, c.Transport(), "del", ktables.WithOnMismatch(ktables.OnMismatchReconcile))
	if !errors.Is(err, ktables.ErrTopicPolicyUnreadable) || !errors.Is(err, transport.ErrAuthorization) || res.Outcome != ktables.OutcomeUnreadable {
		t.Fatalf("E2 reconcile must return the describe error: %+v %v", res, err)
	}
	if n := c.Calls(memtransport.OpAlterConfig); n != 0 {
		t.Fatalf("E2 reconcile altered after a failed describe: %d", n)
	}
}

// SPEC E2 (item 6): a mismatch under warn is a warning.
func TestEnsureE2MismatchWarnLevel(t *testing.T) {
	c := newCluster(t)
	deleteTopic(t, c, "del", map[string]string{"cleanup.policy": "delete"})
	logs := &logRecorder{}
	if _, err := ktables.EnsureTopic(testCtx(t), c.Transport(), "del", ktables.WithLogger(slog.New(logs))); err != nil {
		t.Fatal(err)
	}
	if r, ok := logs.find("does not compact"); !ok || r.Level != slog.LevelWarn {
		t.Fatalf("E2 mismatch under warn must be a warning: %v %v", r.Level, ok)
	}
}

// SPEC E2 (item 7): an explicit warn (or ignore) with WithoutEnsureTopic is
// allowed and creates nothing; fail and reconcile need topic management.
func TestEnsureE2WarnWithoutEnsureTopic(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	tr := c.Transport()
	createTopic(t, c, "t", 1)
	creates := c.Calls(memtransport.OpCreateTopic)
	for _, m := range []ktables.MismatchMode{ktables.OnMismatchWarn, ktables.OnMismatchIgnore} {
		tbl, err := ktables.Open(ctx, tr, "t", ktables.Bytes(), ktables.WithoutEnsureTopic(), ktables.WithOnMismatch(m))
		if err != nil {
			t.Fatalf("E2 %s with WithoutEnsureTopic: %v", m, err)
		}
		tbl.Close()
		w, err := ktables.OpenWriter(ctx, tr, "t", ktables.Bytes(), ktables.WithoutEnsureTopic(), ktables.WithOnMismatch(m))
		if err != nil {
			t.Fatalf("E2 writer %s with WithoutEnsureTopic: %v", m, err)
		}
		w.Close()
	}
	if n := c.Calls(memtransport.OpCreateTopic) - creates; n != 0 {
		t.Fatalf("E2 warn without ensure created topics: %d calls", n)
	}
	for _, m := range []ktables.MismatchMode{ktables.OnMismatchFail, ktables.OnMismatchReconcile} {
		_, err := ktables.Open(ctx, tr, "t", ktables.Bytes(), ktables.WithoutEnsureTopic(), ktables.WithOnMismatch(m))
		if !errors.Is(err, ktables.ErrInvalidOption) {
			t.Fatalf("E2 %s with WithoutEnsureTopic must be an option error: %v", m, err)
		}
	}
}
