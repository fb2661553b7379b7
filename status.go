package ktables

import "fmt"

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
	// StatusClosed: Close was called; the contents are frozen.
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
