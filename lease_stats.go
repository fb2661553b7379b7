package ktables

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// LeaseOption configures one Announce.
type LeaseOption func(*leaseOptions) error

type leaseOptions struct {
	onBeat func(Position, error)
}

// LeaseOnHeartbeat calls fn after every heartbeat of the lease, on the
// lease's goroutine: with the position the re-published record landed at
// and a nil error, or with a zero Position and the error of a heartbeat
// that failed (it is retried with backoff). The first write, Announce's
// own, and Update's writes are not heartbeats: their errors are returned to
// the caller. fn must be quick, it delays the next heartbeat; a panic in it
// is logged and recovered. A heartbeat that stops the lease because its
// writer closed (ErrClosed) is not reported. A nil fn is an error matching
// ErrInvalidOption.
func LeaseOnHeartbeat(fn func(pos Position, err error)) LeaseOption {
	return func(o *leaseOptions) error {
		if fn == nil {
			return &OptionError{Option: "LeaseOnHeartbeat", Reason: "nil func"}
		}
		o.onBeat = fn
		return nil
	}
}

// LeaseStats are a lease's heartbeat counters; Lease.Stats returns a copy.
type LeaseStats struct {
	// Heartbeats counts heartbeats acknowledged; Failures those that
	// failed (each retry that fails counts again).
	Heartbeats, Failures int64
	// LastHeartbeat is when the last acknowledged heartbeat returned, and
	// Position where it landed; zero before the first.
	LastHeartbeat time.Time
	Position      Position
	// LastFailure is when the last failed heartbeat returned; zero if none
	// did. Err has its error while no heartbeat succeeded since.
	LastFailure time.Time
}

// Stats returns the lease's heartbeat counters: a process can export how
// its announcements fare without wrapping the transport.
func (l *Lease[V]) Stats() LeaseStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// record keeps a heartbeat's outcome for Err and Stats and tells the hook.
func (l *Lease[V]) record(pos Position, err error) {
	closed := errors.Is(err, ErrClosed)
	now := time.Now()
	l.mu.Lock()
	l.err = err
	switch {
	case closed: // the writer closed: the lease ends, nothing to count
	case err == nil:
		l.stats.Heartbeats++
		l.stats.LastHeartbeat, l.stats.Position = now, pos
	default:
		l.stats.Failures++
		l.stats.LastFailure = now
	}
	l.mu.Unlock()
	if l.onBeat != nil && !closed {
		l.callOnBeat(pos, err)
	}
}

func (l *Lease[V]) callOnBeat(pos Position, err error) {
	defer func() {
		if v := recover(); v != nil {
			l.g.w.log.Error("ktables: LeaseOnHeartbeat panicked", slog.String("group", l.group),
				slog.String("member", l.member), slog.String("panic", fmt.Sprint(v)))
		}
	}()
	l.onBeat(pos, err)
}
