package ktables_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ktables/ktables"
)

// SPEC E1/E2 for WithLogAppendTime (issue 19): a created topic gets
// LogAppendTime; an existing CreateTime topic is a mismatch handled like a
// non-compacting cleanup.policy: warn, fail or reconcile per WithOnMismatch.
func TestEnsureTopicLogAppendTimeModes(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	tr := c.Transport()

	res, err := ktables.EnsureTopic(ctx, tr, "leases", ktables.WithLogAppendTime())
	if cfg, _ := c.TopicConfig("leases"); err != nil || res.Outcome != ktables.OutcomeCreated || cfg["message.timestamp.type"] != "LogAppendTime" {
		t.Fatalf("E1 create: %v %v %v", res, err, cfg)
	}
	res, err = ktables.EnsureTopic(ctx, tr, "leases", ktables.WithLogAppendTime(), ktables.WithOnMismatch(ktables.OnMismatchFail))
	if err != nil || res.Outcome != ktables.OutcomeVerified || res.TimestampType != "LogAppendTime" {
		t.Fatalf("E2 verify: %v %v", res, err)
	}

	deleteTopic(t, c, "old", map[string]string{"cleanup.policy": "compact", "retention.ms": "1000"}) // CreateTime by default
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	res, err = ktables.EnsureTopic(ctx, tr, "old", ktables.WithLogAppendTime(), ktables.WithLogger(logger))
	if err != nil || res.Outcome != ktables.OutcomeMismatch || res.TimestampType != "CreateTime" || res.Policy != "compact" {
		t.Fatalf("E2 warn: %v %v", res, err)
	}
	if !strings.Contains(logs.String(), "does not use LogAppendTime") {
		t.Fatalf("E2 warn logged nothing: %q", logs.String())
	}
	if res, err := ktables.EnsureTopic(ctx, tr, "old"); err != nil || res.Outcome != ktables.OutcomeVerified {
		t.Fatalf("without WithLogAppendTime the timestamp type is not checked: %v %v", res, err)
	}

	_, err = ktables.EnsureTopic(ctx, tr, "old", ktables.WithLogAppendTime(), ktables.WithOnMismatch(ktables.OnMismatchFail))
	var pe *ktables.TopicPolicyError
	if !errors.Is(err, ktables.ErrTopicPolicyMismatch) || !errors.As(err, &pe) || pe.Config != "message.timestamp.type" ||
		pe.Expected != "LogAppendTime" || pe.Actual != "CreateTime" || !strings.Contains(err.Error(), `message.timestamp.type="CreateTime"`) {
		t.Fatalf("E2 fail: %v %+v", err, pe)
	}
	if cfg, _ := c.TopicConfig("old"); cfg["message.timestamp.type"] == "LogAppendTime" {
		t.Fatal("E2 fail changed the topic")
	}

	res, err = ktables.EnsureTopic(ctx, tr, "old", ktables.WithLogAppendTime(), ktables.WithOnMismatch(ktables.OnMismatchReconcile))
	cfg, _ := c.TopicConfig("old")
	if err != nil || res.Outcome != ktables.OutcomeReconciled || res.TimestampType != "CreateTime" ||
		cfg["message.timestamp.type"] != "LogAppendTime" || cfg["cleanup.policy"] != "compact" || cfg["retention.ms"] != "1000" {
		t.Fatalf("E2 reconcile: %v %v %v", res, err, cfg)
	}

	// Both wrong: fail reports both, reconcile fixes both in one request.
	deleteTopic(t, c, "both", map[string]string{"cleanup.policy": "delete"})
	_, err = ktables.EnsureTopic(ctx, tr, "both", ktables.WithLogAppendTime(), ktables.WithOnMismatch(ktables.OnMismatchFail))
	if !errors.Is(err, ktables.ErrTopicPolicyMismatch) || !strings.Contains(err.Error(), "cleanup.policy") || !strings.Contains(err.Error(), "message.timestamp.type") {
		t.Fatalf("E2 fail, both: %v", err)
	}
	res, err = ktables.EnsureTopic(ctx, tr, "both", ktables.WithLogAppendTime(), ktables.WithOnMismatch(ktables.OnMismatchReconcile))
	cfg, _ = c.TopicConfig("both")
	if err != nil || res.Outcome != ktables.OutcomeReconciled || cfg["cleanup.policy"] != "compact" || cfg["message.timestamp.type"] != "LogAppendTime" {
		t.Fatalf("E2 reconcile, both: %v %v %v", res, err, cfg)
	}

	// A declared non-compacting policy is not checked, but LogAppendTime is.
	deleteTopic(t, c, "plain", map[string]string{"cleanup.policy": "delete"})
	res, err = ktables.EnsureTopic(ctx, tr, "plain", ktables.WithLogAppendTime(), ktables.WithTopicConfig("cleanup.policy", "delete"),
		ktables.WithOnMismatch(ktables.OnMismatchFail))
	if !errors.As(err, &pe) || pe.Config != "message.timestamp.type" || res.Outcome != ktables.OutcomeMismatch {
		t.Fatalf("declared delete policy, CreateTime: %v %v", res, err)
	}
}
