//go:build cgo

package confluenttransport

import (
	"context"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/ktables/ktables/transport"
)

// adminCall runs one admin request under watch (see events.go), the
// error classified.
func adminCall[T any](t *Transport, ctx context.Context, op, topic string, call func(context.Context) (T, error)) (T, error) {
	var zero T
	if t.isClosed() {
		return zero, closedErr(op, topic)
	}
	wctx, done := t.watch(ctx)
	res, err := call(wctx)
	if err = done(err); err != nil {
		return zero, wrap(ctx, op, topic, err)
	}
	return res, nil
}

// topicCall is an admin request answered per topic.
func (t *Transport) topicCall(ctx context.Context, op, topic string, call func(context.Context) ([]kafka.TopicResult, error)) error {
	res, err := adminCall(t, ctx, op, topic, call)
	for _, r := range res {
		if r.Topic == topic && r.Error.Code() != kafka.ErrNoError {
			return wrap(ctx, op, topic, r.Error)
		}
	}
	return err
}

// configCall is an admin request answered per config resource: topic's
// result.
func (t *Transport) configCall(ctx context.Context, op, topic string, call func(context.Context) ([]kafka.ConfigResourceResult, error)) (kafka.ConfigResourceResult, error) {
	res, err := adminCall(t, ctx, op, topic, call)
	if err != nil {
		return kafka.ConfigResourceResult{}, err
	}
	for _, r := range res {
		if r.Name != topic {
			continue
		}
		if r.Error.Code() != kafka.ErrNoError {
			return r, wrap(ctx, op, topic, r.Error)
		}
		return r, nil
	}
	return kafka.ConfigResourceResult{}, wrap(ctx, op, topic, kafka.NewError(kafka.ErrUnknownTopicOrPart, "topic missing from the result", false))
}

// CreateTopic creates a topic through the admin client. An existing topic is
// an error matching transport.ErrTopicExists. (X5)
func (t *Transport) CreateTopic(ctx context.Context, spec transport.TopicSpec) error {
	parts, rf := int(max(spec.Partitions, 1)), int(spec.ReplicationFactor)
	if rf <= 0 {
		rf = -1 // the broker's default.replication.factor
	}
	ts := []kafka.TopicSpecification{{Topic: spec.Name, NumPartitions: parts, ReplicationFactor: rf, Config: spec.Configs}}
	return t.topicCall(ctx, "create topic", spec.Name, func(ctx context.Context) ([]kafka.TopicResult, error) {
		return t.adm.CreateTopics(ctx, ts)
	})
}

// CreatePartitions grows topic to total partitions. (transport.PartitionAdder)
func (t *Transport) CreatePartitions(ctx context.Context, topic string, total int32) error {
	ps := []kafka.PartitionsSpecification{{Topic: topic, IncreaseTo: int(total)}}
	return t.topicCall(ctx, "create partitions", topic, func(ctx context.Context) ([]kafka.TopicResult, error) {
		return t.adm.CreatePartitions(ctx, ps)
	})
}

// DeleteTopic deletes topic and its data; an unknown topic is an error
// matching transport.ErrUnknownTopic. (transport.TopicDeleter)
func (t *Transport) DeleteTopic(ctx context.Context, topic string) error {
	return t.topicCall(ctx, "delete topic", topic, func(ctx context.Context) ([]kafka.TopicResult, error) {
		return t.adm.DeleteTopics(ctx, []string{topic})
	})
}

// DescribeTopicConfig returns every config entry of topic with its source.
// (transport.TopicConfigurer)
func (t *Transport) DescribeTopicConfig(ctx context.Context, topic string) ([]transport.ConfigEntry, error) {
	rs := []kafka.ConfigResource{{Type: kafka.ResourceTopic, Name: topic}}
	r, err := t.configCall(ctx, "describe topic config", topic, func(ctx context.Context) ([]kafka.ConfigResourceResult, error) {
		return t.adm.DescribeConfigs(ctx, rs)
	})
	if err != nil {
		return nil, err
	}
	out := make([]transport.ConfigEntry, 0, len(r.Config))
	for _, e := range r.Config {
		out = append(out, transport.ConfigEntry{
			Name: e.Name, Value: e.Value, Source: configSource(e.Source, e.IsDefault),
			ReadOnly: e.IsReadOnly, Sensitive: e.IsSensitive,
		})
	}
	return out, nil
}

func configSource(s kafka.ConfigSource, isDefault bool) transport.ConfigSource {
	switch s {
	case kafka.ConfigSourceDynamicTopic:
		return transport.SourceTopic
	case kafka.ConfigSourceDynamicBroker, kafka.ConfigSourceDynamicDefaultBroker:
		return transport.SourceBrokerDynamic
	case kafka.ConfigSourceStaticBroker:
		return transport.SourceBrokerStatic
	case kafka.ConfigSourceDefault:
		return transport.SourceDefault
	}
	if isDefault {
		return transport.SourceDefault
	}
	return transport.SourceUnknown
}

// AlterTopicConfig sets the given keys with IncrementalAlterConfigs (Kafka
// 2.3+), so every other explicit override of the topic stays.
// (transport.TopicConfigurer)
func (t *Transport) AlterTopicConfig(ctx context.Context, topic string, set map[string]string) error {
	if len(set) == 0 {
		if t.isClosed() {
			return closedErr("alter topic config", topic)
		}
		return nil
	}
	entries := make([]kafka.ConfigEntry, 0, len(set))
	for k, v := range set {
		entries = append(entries, kafka.ConfigEntry{Name: k, Value: v, IncrementalOperation: kafka.AlterConfigOpTypeSet})
	}
	rs := []kafka.ConfigResource{{Type: kafka.ResourceTopic, Name: topic, Config: entries}}
	_, err := t.configCall(ctx, "alter topic config", topic, func(ctx context.Context) ([]kafka.ConfigResourceResult, error) {
		return t.adm.IncrementalAlterConfigs(ctx, rs)
	})
	return err
}
