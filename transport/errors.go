package transport

import (
	"errors"
	"fmt"
	"strings"
)

// Error classes. Every error a transport returns is either fatal or
// retriable; check with errors.Is(err, ErrFatal) or the helpers IsFatal and
// IsRetriable. (SPEC X6)
var (
	// ErrRetriable marks transient faults: broker restarts, connection
	// resets, leader changes, request timeouts. The core retries with backoff.
	ErrRetriable = errors.New("retriable")
	// ErrFatal marks faults that retrying cannot fix: authorization,
	// authentication, a deleted topic, an invalid request. A table stops and
	// reports status failed.
	ErrFatal = errors.New("fatal")
)

// Sentinel error kinds, usable with errors.Is. Each has a default class
// (see Classify); an adapter may override it per error.
var (
	ErrTopicExists       = errors.New("topic already exists")        // fatal
	ErrUnknownTopic      = errors.New("unknown topic")               // fatal
	ErrUnknownPartition  = errors.New("unknown partition")           // retriable
	ErrAuthorization     = errors.New("not authorized")              // fatal
	ErrAuthentication    = errors.New("authentication failed")       // fatal
	ErrInvalidConfig     = errors.New("invalid configuration")       // fatal
	ErrInvalidRequest    = errors.New("invalid request")             // fatal
	ErrRecordTooLarge    = errors.New("record too large")            // fatal
	ErrUnsupported       = errors.New("unsupported by broker")       // fatal
	ErrBrokerUnavailable = errors.New("broker unavailable")          // retriable
	ErrNotLeader         = errors.New("not leader for partition")    // retriable
	ErrTimeout           = errors.New("request timed out")           // retriable
	ErrClosed            = errors.New("transport or fetcher closed") // fatal
	// ErrOffsetOutOfRange: a fetch position lies outside a partition's log
	// (below its start after compaction, retention or DeleteRecords; past
	// its end after a truncation). A fetcher reports it, naming the
	// partitions in Error.Partitions, and leaves their positions alone; the
	// core resolves it with StartOffsets and EndOffsets (SPEC X3).
	ErrOffsetOutOfRange = errors.New("offset out of range") // retriable
)

// defaultClass is the class of each kind: true for retriable.
var defaultClass = map[error]bool{
	ErrTopicExists:       false,
	ErrUnknownTopic:      false,
	ErrUnknownPartition:  true,
	ErrAuthorization:     false,
	ErrAuthentication:    false,
	ErrInvalidConfig:     false,
	ErrInvalidRequest:    false,
	ErrRecordTooLarge:    false,
	ErrUnsupported:       false,
	ErrBrokerUnavailable: true,
	ErrNotLeader:         true,
	ErrTimeout:           true,
	ErrClosed:            false,
	ErrOffsetOutOfRange:  true,
	ErrRetriable:         true,
	ErrFatal:             false,
}

// Error is the error type adapters return. It carries a portable kind (one of
// the sentinels above), a class (retriable or fatal) and the native client
// error, so that both errors.Is(err, transport.ErrAuthorization) and
// errors.As(err, &nativeErr) work.
type Error struct {
	Op        string // the operation, e.g. "produce", "fetch", "create topic"
	Topic     string // the topic, when there is one
	Kind      error  // a sentinel from this package, or nil when unknown
	Retriable bool
	Err       error // the native error, if any
	// Partitions are the partitions the error concerns, when it concerns
	// some and not the whole request: for ErrOffsetOutOfRange, the
	// partitions whose positions are out of range.
	Partitions []int32
}

// NewError builds an Error whose class is the default class of kind
// (retriable when kind is nil: unknown faults are retried, not fatal).
func NewError(op, topic string, kind, native error) *Error {
	return &Error{Op: op, Topic: topic, Kind: kind, Retriable: Classify(kind), Err: native}
}

// Classify reports the default class of a sentinel kind: true for retriable.
// A nil or unknown kind is retriable.
func Classify(kind error) bool {
	if kind == nil {
		return true
	}
	if r, ok := defaultClass[kind]; ok {
		return r
	}
	for k, r := range defaultClass {
		if errors.Is(kind, k) {
			return r
		}
	}
	return true
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("transport")
	if e.Op != "" {
		b.WriteString(": ")
		b.WriteString(e.Op)
	}
	if e.Topic != "" {
		b.WriteString(" ")
		b.WriteString(e.Topic)
	}
	switch {
	case e.Kind != nil && e.Err != nil && e.Err.Error() != e.Kind.Error():
		b.WriteString(": ")
		b.WriteString(e.Kind.Error())
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	case e.Kind != nil:
		b.WriteString(": ")
		b.WriteString(e.Kind.Error())
	case e.Err != nil:
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if len(e.Partitions) > 0 {
		fmt.Fprintf(&b, " (partitions %v)", e.Partitions)
	}
	if e.Retriable {
		b.WriteString(" (retriable)")
	}
	return b.String()
}

// Unwrap exposes the kind, the class and the native error to errors.Is and
// errors.As.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 3)
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Retriable {
		errs = append(errs, ErrRetriable)
	} else {
		errs = append(errs, ErrFatal)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// IsFatal reports whether err is classified fatal: retrying cannot help.
func IsFatal(err error) bool {
	return err != nil && errors.Is(err, ErrFatal)
}

// IsRetriable reports whether err is a transient fault worth retrying.
// Errors a transport did not classify count as retriable, so that an
// unexpected network error never fails a table; context errors do not, since
// they are the caller's decision.
func IsRetriable(err error) bool {
	if err == nil || IsFatal(err) {
		return false
	}
	if errors.Is(err, ErrRetriable) {
		return true
	}
	return !isContextErr(err)
}
