package ktables_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// SPEC E1: created compacted with caller configs merged; existing is not an
// error.
func TestEnsureTopicCreatesCompacted(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	tr := c.Transport()
	res, err := ktables.EnsureTopic(ctx, tr, "flags", ktables.WithPartitions(3), ktables.WithTopicConfig("min.compaction.lag.ms", "100"))
	if err != nil || res.Outcome != ktables.OutcomeCreated {
		t.Fatalf("E1 %v %v", res, err)
	}
	cfg, _ := c.TopicConfig("flags")
	if cfg["cleanup.policy"] != "compact" || cfg["min.compaction.lag.ms"] != "100" {
		t.Fatalf("E1 configs %v", cfg)
	}
	parts, _ := tr.Partitions(ctx, "flags")
	if len(parts) != 3 {
		t.Fatalf("E1 partitions %v", parts)
	}
	res, err = ktables.EnsureTopic(ctx, tr, "flags")
	if err != nil || res.Outcome != ktables.OutcomeVerified || res.Policy != "compact" {
		t.Fatalf("E1 second ensure %v %v", res, err)
	}
}

func deleteTopic(t *testing.T, c *memtransport.Cluster, name string, configs map[string]string) {
	t.Helper()
	if err := c.CreateTopic(transport.TopicSpec{Name: name, Partitions: 1, Configs: configs}); err != nil {
		t.Fatal(err)
	}
}

// SPEC E2: the four mismatch modes and their outcomes.
func TestEnsureTopicMismatchModes(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	tr := c.Transport()
	deleteTopic(t, c, "del", map[string]string{"cleanup.policy": "delete", "retention.ms": "1000"})

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	res, err := ktables.EnsureTopic(ctx, tr, "del", ktables.WithLogger(logger))
	if err != nil || res.Outcome != ktables.OutcomeMismatch || res.Policy != "delete" {
		t.Fatalf("E2 warn: %v %v", res, err)
	}
	if !strings.Contains(logs.String(), "does not compact") {
		t.Fatalf("E2 warn logged nothing: %q", logs.String())
	}

	describes := c.Calls(memtransport.OpDescribeConfig)
	res, err = ktables.EnsureTopic(ctx, tr, "del", ktables.WithOnMismatch(ktables.OnMismatchIgnore))
	if err != nil || res.Outcome != ktables.OutcomeSkipped || c.Calls(memtransport.OpDescribeConfig) != describes {
		t.Fatalf("E2 ignore must not describe: %v %v", res, err)
	}

	_, err = ktables.EnsureTopic(ctx, tr, "del", ktables.WithOnMismatch(ktables.OnMismatchFail))
	var pe *ktables.TopicPolicyError
	if !errors.Is(err, ktables.ErrTopicPolicyMismatch) || !errors.As(err, &pe) ||
		pe.Topic != "del" || pe.Expected != "compact" || pe.Actual != "delete" {
		t.Fatalf("E2 fail: %v %+v", err, pe)
	}

	res, err = ktables.EnsureTopic(ctx, tr, "del", ktables.WithOnMismatch(ktables.OnMismatchReconcile))
	if err != nil || res.Outcome != ktables.OutcomeReconciled {
		t.Fatalf("E2 reconcile: %v %v", res, err)
	}
	cfg, _ := c.TopicConfig("del")
	if cfg["cleanup.policy"] != "compact" || cfg["retention.ms"] != "1000" {
		t.Fatalf("E2 reconcile lost overrides: %v", cfg)
	}
}

// SPEC E2: the policy is a set of words; a declared non-compacting policy is
// not enforced; unreadable configs are reported.
func TestEnsureTopicPolicyWords(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	tr := c.Transport()
	deleteTopic(t, c, "both", map[string]string{"cleanup.policy": "delete, compact"})
	res, err := ktables.EnsureTopic(ctx, tr, "both", ktables.WithOnMismatch(ktables.OnMismatchFail))
	if err != nil || res.Outcome != ktables.OutcomeVerified {
		t.Fatalf("E2 'delete, compact' compacts: %v %v", res, err)
	}
	deleteTopic(t, c, "plain", nil) // Kafka's default policy: delete
	res, err = ktables.EnsureTopic(ctx, tr, "plain", ktables.WithTopicConfig("cleanup.policy", "delete"), ktables.WithOnMismatch(ktables.OnMismatchFail))
	if err != nil || res.Outcome != ktables.OutcomeSkipped {
		t.Fatalf("E2 declared delete policy is the caller's choice: %v %v", res, err)
	}
	if _, err := ktables.EnsureTopic(ctx, tr, "plain", ktables.WithOnMismatch(ktables.OnMismatchFail)); !errors.Is(err, ktables.ErrTopicPolicyMismatch) {
		t.Fatalf("E2 default policy is delete: %v", err)
	}

	c.FailNext(memtransport.OpDescribeConfig, 1, transport.NewError("describe", "plain", transport.ErrAuthorization, nil))
	res, err = ktables.EnsureTopic(ctx, tr, "plain")
	if err != nil || res.Outcome != ktables.OutcomeUnreadable {
		t.Fatalf("E2 unreadable (warn): %v %v", res, err)
	}
	c.FailNext(memtransport.OpDescribeConfig, 1, transport.NewError("describe", "plain", transport.ErrAuthorization, nil))
	res, err = ktables.EnsureTopic(ctx, tr, "plain", ktables.WithOnMismatch(ktables.OnMismatchFail))
	if !errors.Is(err, transport.ErrAuthorization) || res.Outcome != ktables.OutcomeUnreadable {
		t.Fatalf("E2 unreadable (fail): %v %v", res, err)
	}

	bare := bareTransport{c.Transport()}
	res, err = ktables.EnsureTopic(ctx, bare, "plain")
	if err != nil || res.Outcome != ktables.OutcomeUnreadable {
		t.Fatalf("E2 transport without TopicConfigurer: %v %v", res, err)
	}
}

// bareTransport hides the optional capabilities of a transport.
type bareTransport struct{ transport.Transport }

// SPEC E3: invalid names fail before any network call.
func TestTopicNames(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	for _, name := range []string{"", ".", "..", "a b", "a/b", "ü", strings.Repeat("x", 250)} {
		_, err := ktables.EnsureTopic(ctx, c.Transport(), name)
		if !errors.Is(err, ktables.ErrInvalidTopicName) || !errors.Is(err, ktables.ErrInvalidOption) {
			t.Errorf("E3 %q: %v", name, err)
		}
	}
	for _, name := range []string{"a", "A.b_c-9", strings.Repeat("x", 249), "..."} {
		if err := ktables.ValidateTopicName(name); err != nil {
			t.Errorf("E3 valid %q rejected: %v", name, err)
		}
	}
	if n := c.Calls(memtransport.OpCreateTopic); n != 0 {
		t.Fatalf("E3 invalid names reached the broker %d times", n)
	}
}

func TestParseMismatchMode(t *testing.T) {
	for _, m := range []ktables.MismatchMode{ktables.OnMismatchWarn, ktables.OnMismatchIgnore, ktables.OnMismatchFail, ktables.OnMismatchReconcile} {
		got, err := ktables.ParseMismatchMode(m.String())
		if err != nil || got != m {
			t.Errorf("%v: %v %v", m, got, err)
		}
	}
	if _, err := ktables.ParseMismatchMode("strict"); !errors.Is(err, ktables.ErrInvalidOption) {
		t.Error(err)
	}
}
