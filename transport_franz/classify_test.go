package franztransport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables/transport"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err       error
		kind      error
		retriable bool
	}{
		{kerr.TopicAuthorizationFailed, transport.ErrAuthorization, false},
		{kerr.GroupAuthorizationFailed, transport.ErrAuthorization, false},
		{&kadm.AuthError{Err: kerr.ClusterAuthorizationFailed}, transport.ErrAuthorization, false},
		{kerr.SaslAuthenticationFailed, transport.ErrAuthentication, false},
		{kerr.UnknownTopicOrPartition, transport.ErrUnknownTopic, false},
		{kerr.NotLeaderForPartition, transport.ErrNotLeader, true},
		{kerr.LeaderNotAvailable, transport.ErrNotLeader, true},
		{kerr.RequestTimedOut, transport.ErrTimeout, true},
		{kerr.TopicAlreadyExists, transport.ErrTopicExists, false},
		{kerr.InvalidConfig, transport.ErrInvalidConfig, false},
		{kerr.MessageTooLarge, transport.ErrRecordTooLarge, false},
		{kerr.RecordListTooLarge, transport.ErrRecordTooLarge, false},
		{kerr.CoordinatorLoadInProgress, nil, true},
		{kerr.UnknownServerError, nil, false},
		{fmt.Errorf("read: %w", io.EOF), transport.ErrBrokerUnavailable, true},
		{kgo.ErrClientClosed, transport.ErrClosed, false},
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
	if err := wrap(ctx, "op", "t", kerr.RequestTimedOut); err != context.Canceled {
		t.Errorf("with a done ctx: %v, want context.Canceled", err)
	}
}
