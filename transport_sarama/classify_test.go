package saramatransport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/IBM/sarama"

	"github.com/ktables/ktables/transport"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err       error
		kind      error
		retriable bool
	}{
		{sarama.ErrTopicAuthorizationFailed, transport.ErrAuthorization, false},
		{sarama.ErrClusterAuthorizationFailed, transport.ErrAuthorization, false},
		{sarama.ErrSASLAuthenticationFailed, transport.ErrAuthentication, false},
		{sarama.Wrap(sarama.ErrOutOfBrokers, sarama.ErrSASLAuthenticationFailed), transport.ErrAuthentication, false},
		{sarama.ErrUnknownTopicOrPartition, transport.ErrUnknownTopic, false},
		{sarama.ErrNotLeaderForPartition, transport.ErrNotLeader, true},
		{sarama.ErrLeaderNotAvailable, transport.ErrNotLeader, true},
		{sarama.ErrRequestTimedOut, transport.ErrTimeout, true},
		{&sarama.TopicError{Err: sarama.ErrTopicAlreadyExists}, transport.ErrTopicExists, false},
		{sarama.ErrInvalidConfig, transport.ErrInvalidConfig, false},
		{sarama.ErrMessageSizeTooLarge, transport.ErrRecordTooLarge, false},
		{sarama.ErrOutOfBrokers, transport.ErrBrokerUnavailable, true},
		{sarama.ErrNotConnected, transport.ErrBrokerUnavailable, true},
		{sarama.Wrap(sarama.ErrOutOfBrokers, io.EOF), transport.ErrBrokerUnavailable, true},
		{fmt.Errorf("read: %w", io.EOF), transport.ErrBrokerUnavailable, true},
		{sarama.ErrInvalidPartition, transport.ErrUnknownPartition, true},
		{sarama.ErrClosedClient, transport.ErrClosed, false},
		{sarama.ErrOffsetsLoadInProgress, nil, true},
		{sarama.ErrUnknown, nil, false},
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
	if err := wrap(ctx, "op", "t", sarama.ErrRequestTimedOut); err != context.Canceled {
		t.Errorf("with a done ctx: %v, want context.Canceled", err)
	}
}
