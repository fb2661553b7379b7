package transport

import (
	"context"
	"errors"
)

// Ending is what an adapter knows, besides the error itself, when a call
// fails: Finish turns the two into the error the call returns. Each
// adapter fills it the way its client allows; the order in which the
// pieces apply is Finish's, the same for every adapter.
type Ending struct {
	Op, Topic string
	// Classify maps the client's native errors (see Wrap).
	Classify Classifier
	// Last is the last connection failure the adapter's watch saw since
	// the last response (ConnWatch.Last), or nil when it knows none or
	// watches nothing. It annotates ctx's error (WithLastError) and is
	// offered to Join.
	Last error
	// Join adds Last to err when err says no broker could be reached
	// without saying why (sarama's "run out of available brokers",
	// kafka-go's BROKER_NOT_AVAILABLE), and returns err unchanged
	// otherwise. It is called only with a non-nil Last; nil joins nothing.
	Join func(err, last error) error
	// SASL returns the authentication failure the adapter's SASL watch
	// infers for err (after Join): non-nil when the watch blames the
	// credentials (see SASLFailures) and err is what a broker closing the
	// connection during authentication looks like to the client. nil
	// blames nothing.
	SASL func(err error) *SASLClosedError
}

// Finish classifies err, the failure of a call under ctx, in this order:
//
//  1. nil stays nil;
//  2. when ctx is done, ctx's own error, annotated with e.Last (a caller's
//     cancellation is never wrapped away, yet says why time ran out);
//  3. an error already classified (a *Error) is returned unchanged;
//  4. e.Join adds e.Last to an error that hides why no broker answered;
//  5. when e.SASL blames the credentials, an error of kind
//     ErrAuthentication (fatal) carrying the SASLClosedError;
//  6. otherwise Wrap with e.Classify.
func Finish(ctx context.Context, err error, e Ending) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return WithLastError(cerr, e.Last)
	}
	if _, ok := errors.AsType[*Error](err); ok {
		return err
	}
	if e.Join != nil && e.Last != nil {
		err = e.Join(err, e.Last)
	}
	if e.SASL != nil {
		if se := e.SASL(err); se != nil {
			return NewError(e.Op, e.Topic, ErrAuthentication, se)
		}
	}
	return Wrap(ctx, e.Op, e.Topic, err, e.Classify)
}
