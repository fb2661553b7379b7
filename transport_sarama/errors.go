package saramatransport

import (
	"context"
	"errors"

	"github.com/IBM/sarama"

	"github.com/ktables/ktables/transport"
)

// wrap classifies a sarama error for the core (see transport.Wrap): the
// native sarama.KError stays reachable with errors.As.
func wrap(ctx context.Context, op, topic string, err error) error {
	return transport.Wrap(ctx, op, topic, err, classify)
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
	if ce, ok := errors.AsType[sarama.ConfigurationError](err); ok {
		if isTooLarge(ce) {
			return transport.ErrRecordTooLarge, false
		}
		return transport.ErrInvalidConfig, false
	}
	return nil, true
}

// classifyKError uses the protocol's code table shared by every adapter,
// falling back to Kafka's retriable flag for codes it does not list (sarama
// does not carry the flag).
func classifyKError(ke sarama.KError) (error, bool) {
	if kind, retriable, known := transport.KafkaCode(int16(ke)); known {
		return kind, retriable
	}
	return nil, transport.KafkaRetriable(int16(ke))
}

func isNetworkErr(err error) bool { return transport.IsNetworkError(err) }

// closedErr is what calls on a closed transport or fetcher return.
func closedErr(op, topic string) error {
	return transport.NewError(op, topic, transport.ErrClosed, nil)
}
