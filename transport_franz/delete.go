package franztransport

import (
	"context"
	"fmt"

	"github.com/ktables/ktables/transport"
)

var _ transport.TopicDeleter = (*Transport)(nil)

// DeleteTopic deletes topic. (transport.TopicDeleter)
func (t *Transport) DeleteTopic(ctx context.Context, topic string) error {
	const op = "delete topic"
	if t.isClosed() {
		return closedErr(op, topic)
	}
	wctx, done := t.sasl.watch(ctx)
	defer done()
	resp, err := t.adm.DeleteTopic(wctx, topic)
	if err == nil {
		err = resp.Err
		if err != nil && resp.ErrMessage != "" {
			err = fmt.Errorf("%w: %s", err, resp.ErrMessage)
		}
	}
	return finish(ctx, wctx, op, topic, err)
}
