package ktables

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ktables/ktables/transport"
)

// MismatchMode decides what EnsureTopic does when the topic already exists
// and its cleanup.policy does not compact (SPEC E2).
type MismatchMode int

const (
	// OnMismatchWarn logs a warning and changes nothing (the default).
	OnMismatchWarn MismatchMode = iota
	// OnMismatchIgnore does not even describe the topic.
	OnMismatchIgnore
	// OnMismatchFail returns a *TopicPolicyError (ErrTopicPolicyMismatch).
	OnMismatchFail
	// OnMismatchReconcile sets cleanup.policy=compact, preserving every other
	// explicit override of the topic.
	OnMismatchReconcile
)

func (m MismatchMode) String() string {
	switch m {
	case OnMismatchWarn:
		return "warn"
	case OnMismatchIgnore:
		return "ignore"
	case OnMismatchFail:
		return "fail"
	case OnMismatchReconcile:
		return "reconcile"
	}
	return fmt.Sprintf("MismatchMode(%d)", int(m))
}

// ParseMismatchMode parses "warn", "ignore", "fail" or "reconcile".
func ParseMismatchMode(s string) (MismatchMode, error) {
	for m := OnMismatchWarn; m <= OnMismatchReconcile; m++ {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, optionErr("on-mismatch", "%q is not one of warn, ignore, fail, reconcile", s)
}

// Outcome is what EnsureTopic did.
type Outcome int

const (
	// OutcomeCreated: the topic did not exist and was created.
	OutcomeCreated Outcome = iota + 1
	// OutcomeVerified: the topic existed and compacts.
	OutcomeVerified
	// OutcomeReconciled: the topic existed without compaction and
	// OnMismatchReconcile switched it to compact.
	OutcomeReconciled
	// OutcomeMismatch: the topic existed without compaction and was left so
	// (OnMismatchWarn, or OnMismatchFail with its error).
	OutcomeMismatch
	// OutcomeUnreadable: the topic existed but its config could not be read
	// (no TopicConfigurer, or describe failed, e.g. for lack of ACLs).
	OutcomeUnreadable
	// OutcomeSkipped: the topic existed and no check was made
	// (OnMismatchIgnore, or the caller declared a non-compacting policy).
	OutcomeSkipped
)

func (o Outcome) String() string {
	switch o {
	case OutcomeCreated:
		return "created"
	case OutcomeVerified:
		return "verified"
	case OutcomeReconciled:
		return "reconciled"
	case OutcomeMismatch:
		return "mismatch"
	case OutcomeUnreadable:
		return "unreadable"
	case OutcomeSkipped:
		return "skipped"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// EnsureResult reports what EnsureTopic did.
type EnsureResult struct {
	Topic   string
	Outcome Outcome
	// Policy is the topic's cleanup.policy as found (empty when not read).
	Policy string
}

const cleanupPolicy = "cleanup.policy"

// EnsureTopic creates topic with cleanup.policy=compact if it does not exist,
// merging the configs given with WithTopicConfig; "already exists" is not an
// error (SPEC E1). When the topic exists, WithOnMismatch decides what a
// non-compacting cleanup.policy leads to (SPEC E2). Tables and writers call it
// on open unless WithoutEnsureTopic is given; call it yourself at deploy time
// to manage topics explicitly.
//
// It does not retry: a transient error is returned as is.
func EnsureTopic(ctx context.Context, tr transport.Transport, topic string, opts ...Option) (EnsureResult, error) {
	if tr == nil {
		return EnsureResult{}, optionErr("transport", "nil transport")
	}
	if err := ValidateTopicName(topic); err != nil {
		return EnsureResult{}, err
	}
	cfg, err := buildConfig(scopeEnsure, opts)
	if err != nil {
		return EnsureResult{}, err
	}
	return ensureTopic(ctx, tr, topic, &cfg)
}

func ensureTopic(ctx context.Context, tr transport.Transport, topic string, cfg *config) (EnsureResult, error) {
	res := EnsureResult{Topic: topic}
	log := cfg.logger.With(slog.String("topic", topic))
	configs := map[string]string{cleanupPolicy: "compact"}
	for k, v := range cfg.topicConfigs {
		configs[k] = v
	}
	err := tr.CreateTopic(ctx, transport.TopicSpec{
		Name:              topic,
		Partitions:        cfg.partitions,
		ReplicationFactor: cfg.replicationFactor,
		Configs:           configs,
	})
	switch {
	case err == nil:
		res.Outcome, res.Policy = OutcomeCreated, configs[cleanupPolicy]
		log.Info("ktables: created topic", slog.Int("partitions", int(cfg.partitions)), slog.String("cleanup.policy", res.Policy))
		return res, nil
	case !errors.Is(err, transport.ErrTopicExists):
		return res, fmt.Errorf("ktables: ensure topic %q: %w", topic, err)
	}

	if cfg.onMismatch == OnMismatchIgnore {
		res.Outcome = OutcomeSkipped
		return res, nil
	}
	if declared, ok := cfg.topicConfigs[cleanupPolicy]; ok && !compacts(declared) {
		// The caller asked for a policy without compaction; their choice.
		log.Debug("ktables: declared cleanup.policy does not compact; not checked", slog.String("cleanup.policy", declared))
		res.Outcome = OutcomeSkipped
		return res, nil
	}
	policy, err := describePolicy(ctx, tr, topic)
	if err != nil {
		res.Outcome = OutcomeUnreadable
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if cfg.onMismatch == OnMismatchFail {
			return res, fmt.Errorf("ktables: ensure topic %q: cannot verify cleanup.policy: %w", topic, err)
		}
		log.Warn("ktables: cannot read topic config; cleanup.policy not verified", slog.Any("error", err))
		return res, nil
	}
	res.Policy = policy
	if compacts(policy) {
		if hasPolicyWord(policy, "delete") {
			log.Warn("ktables: topic compacts but also deletes: retention can still evict keys", slog.String("cleanup.policy", policy))
		}
		res.Outcome = OutcomeVerified
		return res, nil
	}

	switch cfg.onMismatch {
	case OnMismatchFail:
		res.Outcome = OutcomeMismatch
		return res, &TopicPolicyError{Topic: topic, Expected: "compact", Actual: policy}
	case OnMismatchReconcile:
		tc := tr.(transport.TopicConfigurer) // describePolicy succeeded, so it is one
		if err := tc.AlterTopicConfig(ctx, topic, map[string]string{cleanupPolicy: "compact"}); err != nil {
			res.Outcome = OutcomeMismatch
			return res, fmt.Errorf("ktables: ensure topic %q: reconcile cleanup.policy: %w", topic, err)
		}
		log.Warn("ktables: reconciled topic cleanup.policy to compact", slog.String("was", policy))
		res.Outcome, res.Policy = OutcomeReconciled, "compact"
		return res, nil
	default:
		log.Warn("ktables: topic does not compact; the table's memory and replay time will grow with history",
			slog.String("cleanup.policy", policy))
		res.Outcome = OutcomeMismatch
		return res, nil
	}
}

// describePolicy returns the topic's cleanup.policy; Kafka's default
// ("delete") when the broker lists none.
func describePolicy(ctx context.Context, tr transport.Transport, topic string) (string, error) {
	tc, ok := tr.(transport.TopicConfigurer)
	if !ok {
		return "", fmt.Errorf("transport %T cannot describe topic configs: %w", tr, transport.ErrUnsupported)
	}
	entries, err := tc.DescribeTopicConfig(ctx, topic)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.Name == cleanupPolicy {
			return e.Value, nil
		}
	}
	return "delete", nil
}

// compacts reads cleanup.policy as a set of comma-separated words.
func compacts(policy string) bool { return hasPolicyWord(policy, "compact") }

func hasPolicyWord(policy, word string) bool {
	for w := range strings.SplitSeq(policy, ",") {
		if strings.EqualFold(strings.TrimSpace(w), word) {
			return true
		}
	}
	return false
}
