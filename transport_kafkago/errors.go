package kafkagotransport

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"

	"github.com/ktables/ktables/transport"
)

// wrap classifies a kafka-go error for the core. It returns nil for nil,
// ctx's own error when ctx is done (never wrapped away), and otherwise a
// *transport.Error whose Err is the native error, so both
// errors.Is(err, transport.ErrAuthorization) and errors.As(err, &kafkaErr)
// (a kafka.Error) work.
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
	if ke, ok := errors.AsType[kafka.Error](err); ok {
		return classifyKafka(ke)
	}
	var pe protocol.Error
	if errors.As(err, &pe) {
		switch pe {
		case protocol.ErrNoTopic:
			// The client's metadata cache does not know the topic (yet):
			// callers confirm with fresh metadata before calling it gone.
			return transport.ErrUnknownTopic, true
		case protocol.ErrNoPartition:
			return transport.ErrUnknownPartition, true
		case protocol.ErrNoLeader:
			return transport.ErrNotLeader, true
		case protocol.ErrNoRecord:
			return transport.ErrInvalidRequest, false
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// An internal deadline (the request timeout), not the caller's
		// context: that case is handled before classify.
		return transport.ErrTimeout, true
	case isNetworkErr(err):
		return transport.ErrBrokerUnavailable, true
	}
	return nil, true
}

func classifyKafka(ke kafka.Error) (error, bool) {
	switch ke {
	case kafka.TopicAuthorizationFailed, kafka.ClusterAuthorizationFailed,
		kafka.GroupAuthorizationFailed, kafka.TransactionalIDAuthorizationFailed,
		kafka.DelegationTokenAuthorizationFailed:
		return transport.ErrAuthorization, false
	case kafka.SASLAuthenticationFailed, kafka.IllegalSASLState,
		kafka.UnsupportedSASLMechanism, kafka.DelegationTokenAuthDisabled:
		return transport.ErrAuthentication, false
	case kafka.UnknownTopicOrPartition, kafka.UnknownTopicID:
		// Right after a create, real Kafka answers this briefly; the
		// adapter confirms with fresh metadata where it matters.
		return transport.ErrUnknownTopic, false
	case kafka.NotLeaderForPartition, kafka.LeaderNotAvailable,
		kafka.FencedLeaderEpoch, kafka.UnknownLeaderEpoch, kafka.NotController,
		kafka.OffsetNotAvailable, kafka.ReplicaNotAvailable:
		return transport.ErrNotLeader, true
	case kafka.RequestTimedOut:
		return transport.ErrTimeout, true
	case kafka.TopicAlreadyExists:
		return transport.ErrTopicExists, false
	case kafka.InvalidConfiguration, kafka.InvalidPartitionNumber, kafka.InvalidReplicationFactor,
		kafka.InvalidReplicaAssignment, kafka.PolicyViolation:
		return transport.ErrInvalidConfig, false
	case kafka.MessageSizeTooLarge, kafka.RecordListTooLarge:
		return transport.ErrRecordTooLarge, false
	case kafka.InvalidTopic, kafka.InvalidRequest, kafka.InvalidRecord,
		kafka.InvalidRequiredAcks, kafka.InvalidTimestamp:
		return transport.ErrInvalidRequest, false
	case kafka.UnsupportedVersion, kafka.UnsupportedForMessageFormat,
		kafka.UnsupportedCompressionType:
		return transport.ErrUnsupported, false
	case kafka.NetworkException, kafka.BrokerNotAvailable:
		return transport.ErrBrokerUnavailable, true
	}
	return nil, ke.Temporary()
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
	return false
}

// closedErr is what calls on a closed transport or fetcher return.
func closedErr(op, topic string) error {
	return transport.NewError(op, topic, transport.ErrClosed, nil)
}

// Errors of kafka-go's request routing: its metadata cache does not know the
// topic, partition or leader (yet).
var (
	errNoTopic     error = protocol.ErrNoTopic
	errNoPartition error = protocol.ErrNoPartition
)
