package saramatransport

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/IBM/sarama"

	"github.com/ktables/ktables/transport"
)

// wrap classifies a sarama error for the core. It returns nil for nil, ctx's
// own error when ctx is done (never wrapped away), and otherwise a
// *transport.Error whose Err is the native error, so that both
// errors.Is(err, transport.ErrAuthorization) and errors.As(err, &kerr) with
// a sarama.KError work.
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

// classify maps a native error to a transport kind and a class. Broker error
// codes (sarama.KError, also inside *sarama.TopicError,
// *sarama.DescribeConfigError and sarama's wrapped errors) come first, then
// sarama's own sentinels, then network errors.
func classify(err error) (kind error, retriable bool) {
	if ke, ok := errors.AsType[sarama.KError](err); ok && ke != sarama.ErrNoError {
		return classifyKError(ke)
	}
	switch {
	case errors.Is(err, sarama.ErrClosedClient), errors.Is(err, sarama.ErrShuttingDown):
		return transport.ErrClosed, false
	case errors.Is(err, sarama.ErrInvalidPartition):
		// The producer's metadata does not know the partition yet
		// (partitions were just added): transient until it refreshes.
		return transport.ErrUnknownPartition, true
	case errors.Is(err, sarama.ErrOutOfBrokers), errors.Is(err, sarama.ErrNotConnected),
		errors.Is(err, sarama.ErrBrokerNotFound), errors.Is(err, sarama.ErrControllerNotAvailable),
		errors.Is(err, sarama.ErrIncompleteResponse):
		return transport.ErrBrokerUnavailable, true
	case errors.Is(err, sarama.ErrMessageTooLarge):
		return transport.ErrRecordTooLarge, false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// An internal deadline, not the caller's context: that case is
		// handled before classify.
		return transport.ErrTimeout, true
	case isNetworkErr(err):
		return transport.ErrBrokerUnavailable, true
	}
	if _, ok := errors.AsType[sarama.ConfigurationError](err); ok {
		return transport.ErrInvalidConfig, false
	}
	return nil, true
}

func classifyKError(ke sarama.KError) (error, bool) {
	switch ke {
	case sarama.ErrTopicAuthorizationFailed, sarama.ErrClusterAuthorizationFailed,
		sarama.ErrGroupAuthorizationFailed, sarama.ErrTransactionalIDAuthorizationFailed,
		sarama.ErrDelegationTokenAuthorizationFailed:
		return transport.ErrAuthorization, false
	case sarama.ErrSASLAuthenticationFailed, sarama.ErrIllegalSASLState,
		sarama.ErrUnsupportedSASLMechanism, sarama.ErrDelegationTokenAuthDisabled:
		return transport.ErrAuthentication, false
	case sarama.ErrUnknownTopicOrPartition:
		return transport.ErrUnknownTopic, false
	case sarama.ErrNotLeaderForPartition, sarama.ErrLeaderNotAvailable,
		sarama.ErrFencedLeaderEpoch, sarama.ErrUnknownLeaderEpoch, sarama.ErrNotController,
		sarama.ErrOffsetNotAvailable, sarama.ErrReplicaNotAvailable:
		return transport.ErrNotLeader, true
	case sarama.ErrRequestTimedOut:
		return transport.ErrTimeout, true
	case sarama.ErrTopicAlreadyExists:
		return transport.ErrTopicExists, false
	case sarama.ErrInvalidConfig, sarama.ErrInvalidPartitions, sarama.ErrInvalidReplicationFactor,
		sarama.ErrInvalidReplicaAssignment, sarama.ErrPolicyViolation:
		return transport.ErrInvalidConfig, false
	case sarama.ErrMessageSizeTooLarge, sarama.ErrMessageSetSizeTooLarge:
		return transport.ErrRecordTooLarge, false
	case sarama.ErrInvalidTopic, sarama.ErrInvalidRequest, sarama.ErrInvalidRecord,
		sarama.ErrInvalidMessage, sarama.ErrInvalidRequiredAcks, sarama.ErrInvalidTimestamp:
		if kafkaRetriable(ke) {
			return nil, true
		}
		return transport.ErrInvalidRequest, false
	case sarama.ErrUnsupportedVersion, sarama.ErrUnsupportedForMessageFormat,
		sarama.ErrUnsupportedCompressionType:
		return transport.ErrUnsupported, false
	case sarama.ErrNetworkException, sarama.ErrBrokerNotAvailable:
		return transport.ErrBrokerUnavailable, true
	}
	return nil, kafkaRetriable(ke)
}

// kafkaRetriable reports Kafka's own retriable flag for an error code
// (RetriableException subclasses in the Java client). sarama does not carry
// the flag, so the list is here.
func kafkaRetriable(ke sarama.KError) bool {
	switch ke {
	case sarama.ErrInvalidMessage, // CORRUPT_MESSAGE
		sarama.ErrUnknownTopicOrPartition, sarama.ErrLeaderNotAvailable,
		sarama.ErrNotLeaderForPartition, sarama.ErrRequestTimedOut,
		sarama.ErrNetworkException, sarama.ErrOffsetsLoadInProgress,
		sarama.ErrConsumerCoordinatorNotAvailable, sarama.ErrNotCoordinatorForConsumer,
		sarama.ErrNotEnoughReplicas, sarama.ErrNotEnoughReplicasAfterAppend,
		sarama.ErrNotController, sarama.ErrKafkaStorageError,
		sarama.ErrFetchSessionIDNotFound, sarama.ErrInvalidFetchSessionEpoch,
		sarama.ErrListenerNotFound, sarama.ErrFencedLeaderEpoch,
		sarama.ErrUnknownLeaderEpoch, sarama.ErrOffsetNotAvailable,
		sarama.ErrPreferredLeaderNotAvailable, sarama.ErrEligibleLeadersNotAvailable,
		sarama.ErrUnstableOffsetCommit, sarama.ErrThrottlingQuotaExceeded,
		sarama.ErrReplicaNotAvailable, sarama.ErrConcurrentTransactions:
		return true
	}
	return false
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
	_, ok := errors.AsType[*os.SyscallError](err)
	return ok
}

// closedErr is what calls on a closed transport or fetcher return.
func closedErr(op, topic string) error {
	return transport.NewError(op, topic, transport.ErrClosed, nil)
}
