package kafkagotransport

import (
	"context"
	"errors"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"

	"github.com/ktables/ktables/transport"
)

// wrap classifies a kafka-go error for the core (see transport.Wrap): the
// native kafka.Error stays reachable with errors.As.
func wrap(ctx context.Context, op, topic string, err error) error {
	return transport.Wrap(ctx, op, topic, err, classify)
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

// classifyKafka uses the protocol's code table shared by every adapter,
// falling back to kafka-go's own Temporary flag for codes it does not list.
func classifyKafka(ke kafka.Error) (error, bool) {
	if kind, retriable, known := transport.KafkaCode(int16(ke)); known {
		return kind, retriable
	}
	return nil, ke.Temporary()
}

func isNetworkErr(err error) bool { return transport.IsNetworkError(err) }

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
