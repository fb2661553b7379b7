package saramatransport

import (
	"context"

	"github.com/IBM/sarama"

	"github.com/ktables/ktables/transport"
)

var _ transport.TopicDeleter = (*Transport)(nil)

// DeleteTopic deletes topic. (transport.TopicDeleter)
func (t *Transport) DeleteTopic(ctx context.Context, topic string) error {
	return t.withAdmin(ctx, "delete topic", topic, func(adm sarama.ClusterAdmin) error {
		return adm.DeleteTopic(topic)
	})
}
