package ktables

import (
	"errors"
	"fmt"
)

// Sentinel errors. Check with errors.Is; several come wrapped with detail.
var (
	// ErrClosed is returned by calls on a closed Table, GroupedTable or
	// Writer, by a Barrier, WaitCaughtUp or Watch whose table was closed
	// while it waited, and by a Lease after Revoke or Close.
	ErrClosed = errors.New("ktables: closed")

	// ErrInvalidOption is matched by every construction error caused by bad
	// arguments or options (see OptionError). Nothing touched the network.
	ErrInvalidOption = errors.New("ktables: invalid option")

	// ErrInvalidTopicName is matched when a topic name breaks Kafka's rules
	// (SPEC E3). It also matches ErrInvalidOption.
	ErrInvalidTopicName = errors.New("ktables: invalid topic name")

	// ErrTableFailed is matched by Barrier, WaitCaughtUp and Watch when the table's
	// reader stopped on a fatal error; the cause is wrapped beside it and
	// returned by Table.Err.
	ErrTableFailed = errors.New("ktables: table failed")

	// ErrNoPartitions is matched by the error Open returns for a topic whose
	// metadata lists no partition: there is nothing to read, and nothing a
	// writer could write to (issue 15.8).
	ErrNoPartitions = errors.New("ktables: topic has no partitions")

	// ErrTopicPolicyMismatch is matched by the error EnsureTopic (and Open)
	// return in OnMismatchFail mode when the topic does not compact. The
	// error is a *TopicPolicyError. It is matched too when WithLogAppendTime
	// asked for message.timestamp.type=LogAppendTime and the topic has
	// CreateTime (TopicPolicyError.Config says which).
	ErrTopicPolicyMismatch = errors.New("ktables: topic cleanup.policy does not compact")

	// ErrTopicPolicyUnreadable is matched by the error EnsureTopic (and Open
	// and OpenWriter) return in OnMismatchFail and OnMismatchReconcile mode
	// when the topic exists but its cleanup.policy could not be read: the
	// transport cannot describe configs, the describe failed (the cause is
	// wrapped beside it), or the answer listed no cleanup.policy. Nothing
	// was changed. It is not retried.
	ErrTopicPolicyUnreadable = errors.New("ktables: topic cleanup.policy could not be read")

	// ErrEncode is matched when the value codec cannot encode a value given
	// to a writer. Nothing was sent.
	ErrEncode = errors.New("ktables: encode value")

	// ErrInvalidKey is matched when a writer is given a key its key format
	// cannot encode (for the default, UTF8Keys: a key that is not valid
	// UTF-8), or a grouped writer a group or member that is not valid UTF-8.
	// Nothing was sent.
	ErrInvalidKey = errors.New("ktables: invalid key")

	// ErrInvalidToken is matched by ParseToken, Token.UnmarshalText and
	// NewToken for text or positions that do not make a token (SPEC T1).
	ErrInvalidToken = errors.New("ktables: invalid token")

	// ErrTokenTopic is matched when a token names another topic than the
	// table or token it is used with: WaitFor on another topic's table,
	// merging tokens of two topics (SPEC T2).
	ErrTokenTopic = errors.New("ktables: token is for another topic")

	// ErrTokenAhead is matched by WaitForChecked when a token names a
	// position its topic does not have: a partition that does not exist or
	// an offset at or past the partition's end. Such a token is forged, from
	// another cluster, or from a topic deleted and re-created since.
	ErrTokenAhead = errors.New("ktables: token is ahead of the topic")
)

// OptionError reports a bad argument or option at construction.
type OptionError struct {
	Option string // the option or argument, e.g. "WithCatchUpTimeout"
	Reason string
	Err    error // a more specific sentinel, if any
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("ktables: invalid option %s: %s", e.Option, e.Reason)
}

// Unwrap lets errors.Is match ErrInvalidOption and the specific sentinel.
func (e *OptionError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidOption, e.Err}
	}
	return []error{ErrInvalidOption}
}

func optionErr(option, format string, args ...any) error {
	return &OptionError{Option: option, Reason: fmt.Sprintf(format, args...)}
}

// TopicPolicyError carries what OnMismatchFail found: a cleanup.policy that
// does not compact, or a message.timestamp.type other than LogAppendTime
// when WithLogAppendTime asked for it.
type TopicPolicyError struct {
	Topic string
	// Config is the topic config that differs: "message.timestamp.type",
	// or "" for cleanup.policy.
	Config   string
	Expected string // cleanup.policy: "compact", or the one declared with WithTopicConfig; else "LogAppendTime"
	Actual   string // the topic's value
}

func (e *TopicPolicyError) Error() string {
	return fmt.Sprintf("ktables: topic %q has %s=%q, expected %q", e.Topic, e.config(), e.Actual, e.Expected)
}

func (e *TopicPolicyError) config() string {
	if e.Config == "" {
		return "cleanup.policy"
	}
	return e.Config
}

// Is makes errors.Is(err, ErrTopicPolicyMismatch) true.
func (e *TopicPolicyError) Is(target error) bool { return target == ErrTopicPolicyMismatch }

// failedError is what Barrier and WaitCaughtUp return for a failed table.
type failedError struct{ cause error }

func (e *failedError) Error() string   { return "ktables: table failed: " + e.cause.Error() }
func (e *failedError) Unwrap() []error { return []error{ErrTableFailed, e.cause} }

// PanicError is a panic of user code on the reader goroutine: a hook
// (OnSet, OnDelete, OnCaughtUp) fails the table with it, so Table.Err
// carries the panic value (SPEC H1). A codec that panics does not: its
// record is counted as undecodable and skipped.
type PanicError struct {
	// Where names the user code: "OnSet", "OnDelete", "OnCaughtUp".
	Where string
	// Value is what the code panicked with.
	Value any
}

func (e *PanicError) Error() string { return fmt.Sprintf("ktables: %s panicked: %v", e.Where, e.Value) }
