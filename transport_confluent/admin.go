//go:build cgo

package confluenttransport

import (
	"context"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/ktables/ktables/transport"
)

// CreateTopic creates a topic through the admin client. An existing topic is
// an error matching transport.ErrTopicExists. (X5)
func (t *Transport) CreateTopic(ctx context.Context, spec transport.TopicSpec) error {
	const op = "create topic"
	if t.isClosed() {
		return closedErr(op, spec.Name)
	}
	parts, rf := int(spec.Partitions), int(spec.ReplicationFactor)
	if parts <= 0 {
		parts = 1
	}
	if rf <= 0 {
		rf = -1 // the broker's default.replication.factor
	}
	res, err := t.adm.CreateTopics(ctx, []kafka.TopicSpecification{{
		Topic: spec.Name, NumPartitions: parts, ReplicationFactor: rf, Config: spec.Configs,
	}})
	return topicResult(ctx, op, spec.Name, res, err)
}

// CreatePartitions grows topic to total partitions. (transport.PartitionAdder)
func (t *Transport) CreatePartitions(ctx context.Context, topic string, total int32) error {
	const op = "create partitions"
	if t.isClosed() {
		return closedErr(op, topic)
	}
	res, err := t.adm.CreatePartitions(ctx, []kafka.PartitionsSpecification{{Topic: topic, IncreaseTo: int(total)}})
	return topicResult(ctx, op, topic, res, err)
}

func topicResult(ctx context.Context, op, topic string, res []kafka.TopicResult, err error) error {
	if err != nil {
		return wrap(ctx, op, topic, err)
	}
	for _, r := range res {
		if r.Topic == topic && r.Error.Code() != kafka.ErrNoError {
			return wrap(ctx, op, topic, r.Error)
		}
	}
	return nil
}

// DescribeTopicConfig returns every config entry of topic with its source.
// (transport.TopicConfigurer)
func (t *Transport) DescribeTopicConfig(ctx context.Context, topic string) ([]transport.ConfigEntry, error) {
	const op = "describe topic config"
	if t.isClosed() {
		return nil, closedErr(op, topic)
	}
	res, err := t.adm.DescribeConfigs(ctx, []kafka.ConfigResource{{Type: kafka.ResourceTopic, Name: topic}})
	if err != nil {
		return nil, wrap(ctx, op, topic, err)
	}
	for _, r := range res {
		if r.Name != topic {
			continue
		}
		if r.Error.Code() != kafka.ErrNoError {
			return nil, wrap(ctx, op, topic, r.Error)
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
	return nil, wrap(ctx, op, topic, kafka.NewError(kafka.ErrUnknownTopicOrPart, "topic missing from DescribeConfigs result", false))
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
	const op = "alter topic config"
	if t.isClosed() {
		return closedErr(op, topic)
	}
	if len(set) == 0 {
		return nil
	}
	entries := make([]kafka.ConfigEntry, 0, len(set))
	for k, v := range set {
		entries = append(entries, kafka.ConfigEntry{Name: k, Value: v, IncrementalOperation: kafka.AlterConfigOpTypeSet})
	}
	res, err := t.adm.IncrementalAlterConfigs(ctx, []kafka.ConfigResource{{Type: kafka.ResourceTopic, Name: topic, Config: entries}})
	if err != nil {
		return wrap(ctx, op, topic, err)
	}
	for _, r := range res {
		if r.Name == topic && r.Error.Code() != kafka.ErrNoError {
			return wrap(ctx, op, topic, r.Error)
		}
	}
	return nil
}
