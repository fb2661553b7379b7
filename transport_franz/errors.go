package franztransport

import (
	"context"
	"errors"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables/transport"
)

// wrap classifies a franz-go error for the core (see transport.Wrap): the
// native error, usually a *kerr.Error, stays reachable with errors.As.
func wrap(ctx context.Context, op, topic string, err error) error {
	return transport.Wrap(ctx, op, topic, err, classify)
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

// classifyKerr uses the protocol's code table shared by every adapter,
// falling back to kerr's own retriable flag for codes it does not list.
func classifyKerr(ke *kerr.Error) (error, bool) {
	if kind, retriable, known := transport.KafkaCode(ke.Code); known {
		return kind, retriable
	}
	return nil, ke.Retriable
}

func isPartitionChoiceErr(err error) bool {
	return strings.HasPrefix(err.Error(), "invalid record partitioning choice")
}

func isNetworkErr(err error) bool {
	if transport.IsNetworkError(err) {
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
