package ktotel

import "errors"

// Sentinel errors of New, Metrics.AddTable and Metrics.AddWriter; match them
// with errors.Is.
var (
	// ErrDuplicate: the table or writer was added already, or another one
	// of the same topic has the same attributes, so their data points would
	// merge. Give each a distinguishing attribute.
	ErrDuplicate = errors.New("ktotel: duplicate table or writer")

	// ErrInvalid: a nil meter provider, source or option, an attribute the
	// instruments set themselves, or bad buckets.
	ErrInvalid = errors.New("ktotel: invalid argument")
)
