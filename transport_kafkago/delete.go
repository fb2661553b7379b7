package kafkagotransport

import (
	"context"

	"github.com/segmentio/kafka-go"

	"github.com/ktables/ktables/transport"
)

var _ transport.TopicDeleter = (*Transport)(nil)

// DeleteTopic deletes topic. (transport.TopicDeleter)
func (t *Transport) DeleteTopic(ctx context.Context, topic string) error {
	return t.call(ctx, "delete topic", topic, func(rctx context.Context) error {
		resp, err := t.cl.DeleteTopics(rctx, &kafka.DeleteTopicsRequest{Topics: []string{topic}})
		if err == nil {
			err = resp.Errors[topic]
		}
		return err
	})
}
