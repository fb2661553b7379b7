package kafkagotransport

import (
	"context"
	"errors"

	"github.com/segmentio/kafka-go"

	"github.com/ktables/ktables/transport"
)

// CreateTopic creates a topic; an existing one is an error matching
// transport.ErrTopicExists. (X5)
func (t *Transport) CreateTopic(ctx context.Context, spec transport.TopicSpec) error {
	parts, rf := spec.Counts() // rf -1: the broker's default.replication.factor
	tc := kafka.TopicConfig{Topic: spec.Name, NumPartitions: int(parts), ReplicationFactor: int(rf)}
	for k, v := range spec.Configs {
		tc.ConfigEntries = append(tc.ConfigEntries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
	}
	return t.call(ctx, "create topic", spec.Name, func(rctx context.Context) error {
		// On success kafka-go's Transport refreshes its metadata cache
		// and waits until it lists the new topic.
		resp, err := t.cl.CreateTopics(rctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{tc}})
		if err == nil {
			err = resp.Errors[spec.Name]
		}
		return err
	})
}

// call runs one request under the request context of ctx (reqCtx) and
// classifies its error; a closed transport sends nothing.
func (t *Transport) call(ctx context.Context, op, topic string, fn func(rctx context.Context) error) error {
	if t.isClosed() {
		return closedErr(op, topic)
	}
	rctx, cancel := t.reqCtx(ctx, 0)
	defer cancel()
	return t.wrap(ctx, op, topic, fn(rctx))
}

// CreatePartitions grows topic to total partitions. Asking for the current
// count is not an error. (transport.PartitionAdder)
func (t *Transport) CreatePartitions(ctx context.Context, topic string, total int32) error {
	const op = "create partitions"
	if t.isClosed() {
		return closedErr(op, topic)
	}
	cur, err := t.Partitions(ctx, topic)
	if err != nil {
		return err
	}
	if int32(len(cur)) == total {
		return nil
	}
	return t.call(ctx, op, topic, func(rctx context.Context) error {
		resp, err := t.cl.CreatePartitions(rctx, &kafka.CreatePartitionsRequest{Topics: []kafka.TopicPartitionsConfig{{Name: topic, Count: total}}})
		if err == nil {
			err = resp.Errors[topic]
		}
		return err
	})
}

// DescribeTopicConfig returns every config entry of topic with its source.
// (transport.TopicConfigurer)
func (t *Transport) DescribeTopicConfig(ctx context.Context, topic string) ([]transport.ConfigEntry, error) {
	const op = "describe topic config"
	if t.isClosed() {
		return nil, closedErr(op, topic)
	}
	rctx, cancel := t.reqCtx(ctx, 0)
	defer cancel()
	resp, err := t.cl.DescribeConfigs(rctx, &kafka.DescribeConfigsRequest{
		Resources: []kafka.DescribeConfigRequestResource{{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic}},
	})
	if err != nil {
		return nil, t.wrap(ctx, op, topic, err)
	}
	for _, r := range resp.Resources {
		if r.ResourceName != topic {
			continue
		}
		if r.Error != nil {
			return nil, t.wrap(ctx, op, topic, r.Error)
		}
		out := make([]transport.ConfigEntry, 0, len(r.ConfigEntries))
		for _, c := range r.ConfigEntries {
			out = append(out, transport.ConfigEntry{
				Name:      c.ConfigName,
				Value:     c.ConfigValue,
				Source:    transport.ConfigSourceOf(c.ConfigSource, c.IsDefault),
				ReadOnly:  c.ReadOnly,
				Sensitive: c.IsSensitive,
			})
		}
		return out, nil
	}
	return nil, t.wrap(ctx, op, topic, kafka.UnknownTopicOrPartition)
}

// AlterTopicConfig sets the given keys with IncrementalAlterConfigs (Kafka
// 2.3+), so every other explicit override of the topic stays.
// (transport.TopicConfigurer)
func (t *Transport) AlterTopicConfig(ctx context.Context, topic string, set map[string]string) error {
	if t.isClosed() {
		return closedErr("alter topic config", topic)
	}
	if len(set) == 0 {
		return nil
	}
	res := kafka.IncrementalAlterConfigsRequestResource{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic}
	for k, v := range set {
		res.Configs = append(res.Configs, kafka.IncrementalAlterConfigsRequestConfig{Name: k, Value: v, ConfigOperation: kafka.ConfigOperationSet})
	}
	return t.call(ctx, "alter topic config", topic, func(rctx context.Context) error {
		resp, err := t.cl.IncrementalAlterConfigs(rctx, &kafka.IncrementalAlterConfigsRequest{Resources: []kafka.IncrementalAlterConfigsRequestResource{res}})
		if err != nil {
			return err
		}
		if len(resp.Resources) == 0 {
			return errors.New("empty IncrementalAlterConfigs response")
		}
		for _, r := range resp.Resources {
			if r.ResourceName == topic && r.Error != nil {
				err = r.Error
			}
		}
		return err
	})
}
