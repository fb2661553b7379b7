package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

// configFlags collects repeated --config k=v flags.
type configFlags map[string]string

func (c configFlags) String() string {
	var parts []string
	for k, v := range c {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (c configFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	c[k] = v
	return nil
}

func runEnsureTopic(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "ensure-topic", "",
		"Create the topic with cleanup.policy=compact if it does not exist, or check that an existing\n"+
			"one compacts, and print the outcome: created, verified, reconciled, mismatch, unreadable or skipped.")
	var cf connFlags
	cf.register(fs.FlagSet, sio)
	topic := fs.String("topic", "", "the topic (required)")
	partitions := fs.Int("partitions", 1, "partition count when the topic is created")
	rf := fs.Int("replication-factor", 0, "replication factor when the topic is created (0: the broker's default)")
	configs := configFlags{}
	fs.Var(configs, "config", "topic config key=value used when the topic is created (repeatable)")
	onMismatch := fs.String("on-mismatch", "warn", "when an existing topic does not compact: warn, fail, reconcile or ignore")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("ensure-topic takes no arguments, got %s", plural(len(pos), "argument"))
	}
	if err := cf.validate(true); err != nil {
		return err
	}
	if *topic == "" {
		return usagef("missing --topic")
	}
	mode, err := ktables.ParseMismatchMode(*onMismatch)
	if err != nil {
		return usagef("--on-mismatch: %q is not one of warn, fail, reconcile, ignore", *onMismatch)
	}
	if *partitions <= 0 || *partitions > 1<<31-1 {
		return usagef("--partitions must be positive, got %d", *partitions)
	}
	if *rf < 0 || *rf > 1<<15-1 {
		return usagef("--replication-factor out of range: %d", *rf)
	}
	opts := []ktables.Option{ktables.WithPartitions(int32(*partitions)), ktables.WithOnMismatch(mode)}
	if *rf > 0 {
		opts = append(opts, ktables.WithReplicationFactor(int16(*rf)))
	}
	for k, v := range configs {
		opts = append(opts, ktables.WithTopicConfig(k, v))
	}
	if err := ktables.ValidateTopicName(*topic); err != nil {
		return usagef("--topic: %v", err)
	}

	ctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	tr, err := cf.connect(ctx)
	if err != nil {
		return cf.explain(ctx, "connecting", err)
	}
	defer tr.Close()
	res, err := ensureTopic(ctx, tr, *topic, opts)
	if res.Outcome != 0 {
		declared, ok := configs["cleanup.policy"]
		if !ok {
			declared = "compact"
		}
		printOutcome(sio, res, declared)
	}
	if err != nil {
		return cf.explain(ctx, fmt.Sprintf("ensuring topic %q", *topic), err)
	}
	return nil
}

// ensureTopic calls ktables.EnsureTopic, retrying transient errors (a
// cluster that just started, a leader election) until ctx ends.
func ensureTopic(ctx context.Context, tr transport.Transport, topic string, opts []ktables.Option) (ktables.EnsureResult, error) {
	backoff := 50 * time.Millisecond
	for {
		res, err := ktables.EnsureTopic(ctx, tr, topic, opts...)
		if err == nil || !errors.Is(err, transport.ErrRetriable) {
			return res, err
		}
		select {
		case <-ctx.Done():
			return res, err
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// printOutcome prints what EnsureTopic did and the policy the topic has now:
// res.Policy is the one read, which for created and reconciled topics is
// not the one they have (declared is).
func printOutcome(sio *stdio, res ktables.EnsureResult, declared string) {
	line := fmt.Sprintf("topic %s: %s", res.Topic, res.Outcome)
	switch {
	case res.Outcome == ktables.OutcomeCreated:
		line += fmt.Sprintf(" (cleanup.policy=%s)", declared)
	case res.Outcome == ktables.OutcomeReconciled:
		line += fmt.Sprintf(" (cleanup.policy=%s, was %s)", declared, res.Policy)
	case res.Policy != "":
		line += fmt.Sprintf(" (cleanup.policy=%s)", res.Policy)
	}
	fmt.Fprintln(sio.stdout, line)
}
