package memtransport

import (
	"context"

	"github.com/ktables/ktables/transport"
)

var _ transport.TopicDeleter = (*Transport)(nil)

// DeleteTopic deletes a topic, as [Cluster.DeleteTopic] does.
// (transport.TopicDeleter)
func (t *Transport) DeleteTopic(ctx context.Context, topicName string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.closed() {
		return transport.NewError("delete topic", topicName, transport.ErrClosed, nil)
	}
	return t.c.DeleteTopic(topicName)
}
