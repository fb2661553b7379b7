package franztransport

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables/transport"
)

// wrap classifies a franz-go error for the core. It returns nil for nil,
// ctx's own error when ctx is done (never wrapped away), and otherwise a
// *transport.Error whose Err is the native error, so both
// errors.Is(err, transport.ErrAuthorization) and errors.As(err, &*kerr.Error)
// work.
func wrap(ctx context.Context, op, topic string, err error) error {
	if err == nil {
		return nil
	}
	if ctx != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
	}
	if _, ok := errors.AsType[*transport.Error](err); ok {
		return err
	}
	kind, retriable := classify(err)
	e := transport.NewError(op, topic, kind, err)
	e.Retriable = retriable
	return e
}

// classify maps a native error to a transport kind and a class.
func classify(err error) (kind error, retriable bool) {
	if ke, ok := errors.AsType[*kerr.Error](err); ok {
		return classifyKerr(ke)
	}
	switch {
	case errors.Is(err, kgo.ErrClientClosed):
		return transport.ErrClosed, false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// An internal deadline (request or retry timeout), not the
		// caller's context: that case is handled before classify.
		return transport.ErrTimeout, true
	case errors.Is(err, kgo.ErrRecordTimeout), errors.Is(err, kgo.ErrRecordRetries):
		return transport.ErrTimeout, true
	case isPartitionChoiceErr(err):
		// kgo's metadata does not know rec.Partition yet (partitions
		// were just added): transient until its metadata refreshes.
		return transport.ErrUnknownPartition, true
	case isNetworkErr(err):
		return transport.ErrBrokerUnavailable, true
	}
	return nil, true
}

func classifyKerr(ke *kerr.Error) (error, bool) {
	switch ke {
	case kerr.TopicAuthorizationFailed, kerr.ClusterAuthorizationFailed,
		kerr.GroupAuthorizationFailed, kerr.TransactionalIDAuthorizationFailed,
		kerr.DelegationTokenAuthorizationFailed:
		return transport.ErrAuthorization, false
	case kerr.SaslAuthenticationFailed, kerr.IllegalSaslState,
		kerr.UnsupportedSaslMechanism, kerr.DelegationTokenAuthDisabled:
		return transport.ErrAuthentication, false
	case kerr.UnknownTopicOrPartition, kerr.UnknownTopicID:
		// Right after a create, real Kafka answers this briefly; the
		// core decides whether to wait, we only report it.
		return transport.ErrUnknownTopic, false
	case kerr.NotLeaderForPartition, kerr.LeaderNotAvailable,
		kerr.FencedLeaderEpoch, kerr.UnknownLeaderEpoch, kerr.NotController,
		kerr.OffsetNotAvailable, kerr.ReplicaNotAvailable:
		return transport.ErrNotLeader, true
	case kerr.RequestTimedOut:
		return transport.ErrTimeout, true
	case kerr.TopicAlreadyExists:
		return transport.ErrTopicExists, false
	case kerr.InvalidConfig, kerr.InvalidPartitions, kerr.InvalidReplicationFactor,
		kerr.InvalidReplicaAssignment, kerr.PolicyViolation:
		return transport.ErrInvalidConfig, false
	case kerr.MessageTooLarge, kerr.RecordListTooLarge:
		return transport.ErrRecordTooLarge, false
	case kerr.InvalidTopicException, kerr.InvalidRequest, kerr.InvalidRecord,
		kerr.CorruptMessage, kerr.InvalidRequiredAcks, kerr.InvalidTimestamp:
		if ke.Retriable {
			return nil, true
		}
		return transport.ErrInvalidRequest, false
	case kerr.UnsupportedVersion, kerr.UnsupportedForMessageFormat,
		kerr.UnsupportedCompressionType:
		return transport.ErrUnsupported, false
	case kerr.NetworkException, kerr.BrokerNotAvailable:
		return transport.ErrBrokerUnavailable, true
	}
	return nil, ke.Retriable
}

func isPartitionChoiceErr(err error) bool {
	return strings.HasPrefix(err.Error(), "invalid record partitioning choice")
}

func isNetworkErr(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	if _, ok := errors.AsType[*os.SyscallError](err); ok {
		return true
	}
	if _, ok := errors.AsType[*kgo.ErrFirstReadEOF](err); ok {
		return true
	}
	return kgo.IsRetryableBrokerErr(err)
}

// closedErr is what calls on a closed transport or fetcher return.
func closedErr(op, topic string) error {
	return transport.NewError(op, topic, transport.ErrClosed, nil)
}
