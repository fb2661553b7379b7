package kafkagotransport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/ktables/ktables/transport"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err       error
		kind      error
		retriable bool
	}{
		{kafka.TopicAuthorizationFailed, transport.ErrAuthorization, false},
		{kafka.ClusterAuthorizationFailed, transport.ErrAuthorization, false},
		{kafka.SASLAuthenticationFailed, transport.ErrAuthentication, false},
		{kafka.UnknownTopicOrPartition, transport.ErrUnknownTopic, false},
		{kafka.NotLeaderForPartition, transport.ErrNotLeader, true},
		{kafka.LeaderNotAvailable, transport.ErrNotLeader, true},
		{kafka.RequestTimedOut, transport.ErrTimeout, true},
		{kafka.TopicAlreadyExists, transport.ErrTopicExists, false},
		{kafka.InvalidConfiguration, transport.ErrInvalidConfig, false},
		{kafka.MessageSizeTooLarge, transport.ErrRecordTooLarge, false},
		{kafka.RecordListTooLarge, transport.ErrRecordTooLarge, false},
		{kafka.GroupLoadInProgress, nil, true},
		{kafka.Unknown, nil, false},
		{fmt.Errorf("kafka.(*Client).Produce: %w", kafka.TopicAuthorizationFailed), transport.ErrAuthorization, false},
		{fmt.Errorf("read: %w", io.EOF), transport.ErrBrokerUnavailable, true},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, transport.ErrBrokerUnavailable, true},
	} {
		err := wrap(context.Background(), "op", "t", c.err)
		if c.kind != nil && !errors.Is(err, c.kind) {
			t.Errorf("%v: %v does not match %v", c.err, err, c.kind)
		}
		if transport.IsRetriable(err) != c.retriable {
			t.Errorf("%v: retriable %v, want %v", c.err, transport.IsRetriable(err), c.retriable)
		}
		if !errors.Is(err, c.err) {
			t.Errorf("%v: native error not reachable from %v", c.err, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := wrap(ctx, "op", "t", kafka.RequestTimedOut); err != context.Canceled {
		t.Errorf("with a done ctx: %v, want context.Canceled", err)
	}
}
