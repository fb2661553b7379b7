package ktables

import (
	"fmt"
	"slices"
	"sync/atomic"
)

// Status is a table's lifecycle state (SPEC L2).
type Status int32

const (
	// StatusLoading: replaying the topic up to the end offsets seen at open.
	StatusLoading Status = iota
	// StatusCaughtUp: every partition reached its open-time end offset; the
	// table now follows live updates.
	StatusCaughtUp
	// StatusDegraded: the catch-up timeout passed before catch-up; the table
	// serves what it has and keeps reading. It becomes StatusCaughtUp when
	// catch-up completes.
	StatusDegraded
	// StatusFailed: the reader stopped on a fatal error (see Table.Err); the
	// contents are frozen at the last applied state.
	StatusFailed
	// StatusClosed: Close was called; the contents are frozen. A table
	// that failed stays StatusFailed when closed.
	StatusClosed
)

func (s Status) String() string {
	switch s {
	case StatusLoading:
		return "loading"
	case StatusCaughtUp:
		return "caught up"
	case StatusDegraded:
		return "degraded"
	case StatusFailed:
		return "failed"
	case StatusClosed:
		return "closed"
	}
	return fmt.Sprintf("Status(%d)", int32(s))
}

// transitions names every legal status change (SPEC L2). Nothing leaves
// StatusFailed or StatusClosed: closing a failed table keeps it failed, so
// Close never hides a failure; catch-up only moves forward.
var transitions = map[Status][]Status{
	StatusLoading:  {StatusCaughtUp, StatusDegraded, StatusFailed, StatusClosed},
	StatusDegraded: {StatusCaughtUp, StatusFailed, StatusClosed},
	StatusCaughtUp: {StatusFailed, StatusClosed},
}

// statusCell holds a table's status. Every change goes through move, which
// allows only the transitions above.
type statusCell struct{ v atomic.Int32 }

func (c *statusCell) load() Status { return Status(c.v.Load()) }

// move changes the status to to when the current status allows it, and
// reports the status it left and whether it moved.
func (c *statusCell) move(to Status) (from Status, ok bool) {
	for {
		from = c.load()
		if !slices.Contains(transitions[from], to) {
			return from, false
		}
		if c.v.CompareAndSwap(int32(from), int32(to)) {
			return from, true
		}
	}
}
