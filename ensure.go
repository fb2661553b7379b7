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
	// OnMismatchReconcile sets cleanup.policy=compact (or the compacting
	// policy declared with WithTopicConfig, such as "compact,delete"),
	// preserving every other explicit override of the topic.
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
	// OutcomeUnreadable: the topic existed but its cleanup.policy could not
	// be read (no TopicConfigurer, describe failed, e.g. for lack of ACLs,
	// or the answer listed no cleanup.policy). Under OnMismatchWarn this is
	// logged and Open goes on; OnMismatchFail and OnMismatchReconcile return
	// an error matching ErrTopicPolicyUnreadable and change nothing.
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
	// Policy is the topic's cleanup.policy as EnsureTopic read it from the
	// broker: for OutcomeReconciled the policy found before the change. It is
	// empty when nothing was read (OutcomeCreated, OutcomeSkipped,
	// OutcomeUnreadable).
	Policy string
	// TimestampType is the topic's message.timestamp.type as read, when
	// WithLogAppendTime asked for LogAppendTime on a topic that existed:
	// for OutcomeReconciled the value found before the change. Empty when
	// not read.
	TimestampType string
}

const cleanupPolicy = "cleanup.policy"

// EnsureTopic creates topic with cleanup.policy=compact if it does not exist,
// merging the configs given with WithTopicConfig; "already exists" is not an
// error (SPEC E1). When the topic exists, WithOnMismatch decides what a
// non-compacting cleanup.policy leads to (SPEC E2). Tables and writers call it
// on open unless WithoutEnsureTopic is given; call it yourself at deploy time
// to manage topics explicitly.
//
// It does not retry: a transient error is returned as is. Open and
// OpenWriter retry transient errors, but never a *TopicPolicyError nor an
// error matching ErrTopicPolicyUnreadable: those say what the topic is, and
// asking again does not change it.
func EnsureTopic(ctx context.Context, tr transport.Transport, topic string, opts ...Option) (EnsureResult, error) {
	if tr == nil {
		return EnsureResult{}, optionErr("transport", "nil transport")
	}
	if err := ValidateTopicName(topic); err != nil {
		return EnsureResult{}, err
	}
	cfg, err := buildConfig(forEnsure, opts)
	if err != nil {
		return EnsureResult{}, err
	}
	return ensureTopic(ctx, tr, topic, &cfg)
}

// ensureRetriable tells Open and OpenWriter which ensureTopic errors to try
// again: transient transport errors, but not a policy mismatch, nor a
// policy that cannot be read because of what the topic or transport is.
func ensureRetriable(err error) bool {
	if errors.Is(err, ErrTopicPolicyMismatch) || errors.Is(err, errPolicyMissing) || errors.Is(err, errTimestampTypeMissing) ||
		errors.Is(err, transport.ErrUnsupported) {
		return false
	}
	return transport.IsRetriable(err)
}

// errPolicyMissing is the cause of an unreadable policy when the broker's
// describe answer lists no cleanup.policy at all.
var errPolicyMissing = errors.New("the describe answer has no cleanup.policy entry")

// errTimestampTypeMissing is the same for message.timestamp.type, when
// WithLogAppendTime asked for it.
var errTimestampTypeMissing = errors.New("the describe answer has no message.timestamp.type entry")

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
		res.Outcome = OutcomeCreated
		log.Info("ktables: created topic", slog.Int("partitions", int(cfg.partitions)), slog.String("cleanup.policy", configs[cleanupPolicy]))
		noteRetention(log, configs[cleanupPolicy])
		return res, nil
	case !errors.Is(err, transport.ErrTopicExists):
		return res, fmt.Errorf("ktables: ensure topic %q: %w", topic, err)
	}

	if cfg.onMismatch == OnMismatchIgnore {
		res.Outcome = OutcomeSkipped
		return res, nil
	}
	// want is what reconcile sets: the caller's declared policy when it
	// compacts ("compact,delete" stays so), else compact.
	want := "compact"
	checkPolicy := true
	if declared, ok := cfg.topicConfigs[cleanupPolicy]; ok {
		if !compacts(declared) {
			// The caller asked for a policy without compaction; their choice.
			log.Debug("ktables: declared cleanup.policy does not compact; not checked", slog.String("cleanup.policy", declared))
			checkPolicy = false
		} else {
			want = declared
		}
	}
	// WithLogAppendTime is checked like cleanup.policy: tables opened
	// WithTTL rely on it to make the broker's clock decide expiry.
	checkTime := wantsLogAppendTime(cfg)
	if !checkPolicy && !checkTime {
		res.Outcome = OutcomeSkipped
		return res, nil
	}
	entries, err := describePolicy(ctx, tr, topic)
	if err == nil && checkPolicy && !entries.hasPolicy {
		err = errPolicyMissing
	}
	if err == nil && checkTime && entries.timestampType == "" {
		err = errTimestampTypeMissing
	}
	if err != nil {
		res.Outcome = OutcomeUnreadable
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if cfg.onMismatch != OnMismatchWarn {
			// fail and reconcile promise a compacting topic; one whose
			// policy is unknown is never altered.
			return res, &policyUnreadableError{topic: topic, mode: cfg.onMismatch, cause: err}
		}
		log.Info("ktables: cannot read topic config; cleanup.policy not verified", slog.Any("error", err))
		return res, nil
	}
	policy := entries.policy
	res.Policy, res.TimestampType = policy, entries.timestampType

	// What differs from what was asked, as reconcile would set it.
	var mismatches []*TopicPolicyError
	if checkPolicy && !compacts(policy) {
		mismatches = append(mismatches, &TopicPolicyError{Topic: topic, Expected: want, Actual: policy})
	}
	if checkTime && !strings.EqualFold(entries.timestampType, logAppendTime) {
		mismatches = append(mismatches, &TopicPolicyError{Topic: topic, Config: timestampTypeConfig,
			Expected: logAppendTime, Actual: entries.timestampType})
	}
	if len(mismatches) == 0 {
		if checkPolicy {
			noteRetention(log, policy)
			res.Outcome = OutcomeVerified
		} else {
			res.Outcome = OutcomeSkipped
		}
		return res, nil
	}

	switch cfg.onMismatch {
	case OnMismatchFail:
		res.Outcome = OutcomeMismatch
		if len(mismatches) == 1 {
			return res, mismatches[0]
		}
		return res, errors.Join(mismatches[0], mismatches[1])
	case OnMismatchReconcile:
		tc := tr.(transport.TopicConfigurer) // describePolicy succeeded, so it is one
		set := make(map[string]string, len(mismatches))
		for _, m := range mismatches {
			set[m.config()] = m.Expected
		}
		if err := tc.AlterTopicConfig(ctx, topic, set); err != nil {
			res.Outcome = OutcomeMismatch
			return res, fmt.Errorf("ktables: ensure topic %q: reconcile %s: %w", topic, mismatchConfigs(mismatches), err)
		}
		final := policy
		for _, m := range mismatches {
			if m.config() == cleanupPolicy {
				final = m.Expected
			}
			log.Warn("ktables: reconciled topic "+m.config(),
				slog.String("was", m.Actual), slog.String("now", m.Expected), slog.Int("overrides_preserved", entries.overrides))
		}
		noteRetention(log, final)
		res.Outcome = OutcomeReconciled
		return res, nil
	default:
		for _, m := range mismatches {
			if m.config() == cleanupPolicy {
				log.Warn("ktables: topic does not compact; the table's memory and replay time will grow with history",
					slog.String("cleanup.policy", policy))
			} else {
				log.Warn("ktables: topic does not use LogAppendTime as WithLogAppendTime asks; TTL expiry depends on the producers' clocks",
					slog.String(timestampTypeConfig, m.Actual))
			}
		}
		res.Outcome = OutcomeMismatch
		return res, nil
	}
}

func mismatchConfigs(ms []*TopicPolicyError) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.config()
	}
	return strings.Join(names, " and ")
}

const logAppendTime = "LogAppendTime"

// wantsLogAppendTime: the caller gave WithLogAppendTime (or set
// message.timestamp.type=LogAppendTime with WithTopicConfig).
func wantsLogAppendTime(cfg *config) bool {
	return strings.EqualFold(cfg.topicConfigs[timestampTypeConfig], logAppendTime)
}

// noteRetention logs, at info, that a policy which compacts and deletes
// still lets retention evict keys (SPEC E2): a choice, not a fault.
func noteRetention(log *slog.Logger, policy string) {
	if compacts(policy) && hasPolicyWord(policy, "delete") {
		log.Info("ktables: topic compacts but also deletes: retention can still evict keys", slog.String("cleanup.policy", policy))
	}
}

// describedPolicy is what describePolicy read: the cleanup.policy, the
// message.timestamp.type ("" when not listed) and how many other explicit
// overrides the topic has (reconcile preserves them).
type describedPolicy struct {
	policy        string
	hasPolicy     bool
	timestampType string
	overrides     int
}

// describePolicy reads the topic's cleanup.policy and
// message.timestamp.type. The caller treats a describe answer without an
// entry it checks as unreadable, not as Kafka's default: a broker that
// omits it says nothing about what the topic does.
func describePolicy(ctx context.Context, tr transport.Transport, topic string) (describedPolicy, error) {
	var d describedPolicy
	tc, ok := tr.(transport.TopicConfigurer)
	if !ok {
		return d, fmt.Errorf("transport %T cannot describe topic configs: %w", tr, transport.ErrUnsupported)
	}
	entries, err := tc.DescribeTopicConfig(ctx, topic)
	if err != nil {
		return d, err
	}
	for _, e := range entries {
		switch {
		case e.Name == cleanupPolicy:
			d.policy, d.hasPolicy = e.Value, true
		case e.Name == timestampTypeConfig:
			d.timestampType = e.Value
			if e.Source == transport.SourceTopic {
				d.overrides++
			}
		case e.Source == transport.SourceTopic:
			d.overrides++
		}
	}
	return d, nil
}

// policyUnreadableError is returned under fail and reconcile when the
// topic's cleanup.policy could not be read.
type policyUnreadableError struct {
	topic string
	mode  MismatchMode
	cause error
}

func (e *policyUnreadableError) Error() string {
	return fmt.Sprintf("ktables: ensure topic %q: cleanup.policy could not be read, so %s cannot be applied: %v", e.topic, e.mode, e.cause)
}

func (e *policyUnreadableError) Unwrap() []error { return []error{ErrTopicPolicyUnreadable, e.cause} }

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
