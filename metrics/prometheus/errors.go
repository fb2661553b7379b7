package ktprom

import "errors"

// Sentinel errors of Collector.AddTable and Collector.AddWriter; match them
// with errors.Is.
var (
	// ErrDuplicate: the table or writer was added already, or another one
	// of the same topic has the same label values, so their series would
	// collide. Give each a distinguishing value of a label declared with
	// WithLabels.
	ErrDuplicate = errors.New("ktprom: duplicate table or writer")

	// ErrInvalid: a nil source, label values that do not match the labels
	// declared with WithLabels, or a bad option to New.
	ErrInvalid = errors.New("ktprom: invalid argument")
)
