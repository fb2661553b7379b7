//go:build cgo

package confluenttransport

import (
	"context"
	"errors"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/ktables/ktables/transport"
)

// wrap classifies a confluent-kafka-go error for the core (see
// transport.Wrap): the native kafka.Error stays reachable with errors.As.
// A context error annotated by watch is returned as it is.
func wrap(ctx context.Context, op, topic string, err error) error {
	if _, ok := errors.AsType[*transport.ContextError](err); ok {
		return err
	}
	return transport.Wrap(ctx, op, topic, err, classify)
}

// classify maps a native error to a transport kind and a class. Broker
// codes (zero and up) go through the protocol's table shared by every
// adapter; librdkafka's local codes (negative) are mapped here.
func classify(err error) (kind error, retriable bool) {
	ke, ok := errors.AsType[kafka.Error](err)
	if !ok {
		if transport.IsNetworkError(err) {
			return transport.ErrBrokerUnavailable, true
		}
		return nil, true
	}
	code := ke.Code()
	if code >= 0 {
		if kind, retriable, known := transport.KafkaCode(int16(code)); known {
			return kind, retriable
		}
		return nil, !ke.IsFatal()
	}
	if kind, ok := localCodes[code]; ok {
		return kind, transport.Classify(kind)
	}
	return nil, !ke.IsFatal()
}

// localCodes are librdkafka's own error codes that matter to ktables.
var localCodes = map[kafka.ErrorCode]error{
	kafka.ErrDestroy:            transport.ErrClosed,
	kafka.ErrPurgeQueue:         transport.ErrClosed,
	kafka.ErrPurgeInflight:      transport.ErrClosed,
	kafka.ErrTransport:          transport.ErrBrokerUnavailable,
	kafka.ErrAllBrokersDown:     transport.ErrBrokerUnavailable,
	kafka.ErrResolve:            transport.ErrBrokerUnavailable,
	kafka.ErrUnknownBroker:      transport.ErrBrokerUnavailable,
	kafka.ErrWaitCoord:          transport.ErrBrokerUnavailable,
	kafka.ErrTimedOut:           transport.ErrTimeout,
	kafka.ErrMsgTimedOut:        transport.ErrTimeout,
	kafka.ErrTimedOutQueue:      transport.ErrTimeout,
	kafka.ErrUnknownTopic:       transport.ErrUnknownTopic,
	kafka.ErrUnknownPartition:   transport.ErrUnknownPartition,
	kafka.ErrAuthentication:     transport.ErrAuthentication,
	kafka.ErrSsl:                transport.ErrAuthentication,
	kafka.ErrInvalidArg:         transport.ErrInvalidRequest,
	kafka.ErrNotImplemented:     transport.ErrUnsupported,
	kafka.ErrUnsupportedFeature: transport.ErrUnsupported,
	kafka.ErrAutoOffsetReset:    transport.ErrOffsetOutOfRange,
}

// closedErr is what calls on a closed transport or fetcher return.
func closedErr(op, topic string) error {
	return transport.NewError(op, topic, transport.ErrClosed, nil)
}
