package kafkagotransport

import (
	"context"

	"github.com/segmentio/kafka-go"

	"github.com/ktables/ktables/transport"
)

var _ transport.TopicDeleter = (*Transport)(nil)

// DeleteTopic deletes topic. (transport.TopicDeleter)
func (t *Transport) DeleteTopic(ctx context.Context, topic string) error {
	const op = "delete topic"
	if t.isClosed() {
		return closedErr(op, topic)
	}
	rctx, cancel := t.reqCtx(ctx, 0)
	defer cancel()
	resp, err := t.cl.DeleteTopics(rctx, &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	if err == nil {
		err = resp.Errors[topic]
	}
	return t.wrap(ctx, op, topic, err)
}
