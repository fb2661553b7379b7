package ktables

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Lease keeps one member of a grouped topic alive: it re-publishes the
// member's value every ttl/3 (less up to 10 % jitter, so many instances
// started together spread out) until Revoke or Close, which write the
// member's tombstone (SPEC V5). Readers opened WithTTL hide the member once
// its last record is older than their TTL, so a process that dies without
// revoking disappears by itself.
//
// A heartbeat that fails is retried with backoff, not after a full period,
// and reported: Err returns it until a heartbeat succeeds again, the
// writer's logger gets a warning, Stats counts it, and a LeaseOnHeartbeat
// hook hears of it. Failures never stop the lease; only Revoke, Close, or
// the writer's Close do.
type Lease[V any] struct {
	g             *GroupedWriter[V]
	group, member string
	key           string
	ttl           time.Duration

	onBeat func(Position, error) // LeaseOnHeartbeat; nil: none

	mu    sync.Mutex
	value V
	err   error
	stats LeaseStats

	stop    chan struct{} // closed to stop heartbeats
	done    chan struct{} // closed when the heartbeat goroutine returned
	revoke  sync.Once
	revoked error
}

// Announce writes a member's value, waits for its acknowledgement, and
// returns a Lease that keeps re-publishing it until revoked. ttl is the
// lease: readers must be opened WithTTL of at least ttl. A ttl under MinTTL
// is an error matching ErrInvalidOption, an invalid group or member one
// matching ErrInvalidKey; if the first write fails, its error is returned
// and no lease runs. ctx bounds the first write only. A nil LeaseOption is
// an error matching ErrInvalidOption.
func (g *GroupedWriter[V]) Announce(ctx context.Context, group, member string, value V, ttl time.Duration, opts ...LeaseOption) (*Lease[V], error) {
	if err := validTTL(ttl); err != nil {
		return nil, &OptionError{Option: "ttl", Reason: err.Error()}
	}
	var lo leaseOptions
	for _, o := range opts {
		if o == nil {
			return nil, &OptionError{Option: "LeaseOption", Reason: "nil LeaseOption"}
		}
		if err := o(&lo); err != nil {
			return nil, err
		}
	}
	key, err := g.kc.Encode(group, member)
	if err != nil {
		return nil, err
	}
	if err := g.w.Set(ctx, key, value); err != nil {
		return nil, err
	}
	l := &Lease[V]{
		g: g, group: group, member: member, key: key, ttl: ttl, value: value, onBeat: lo.onBeat,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	if !g.leases.add(l) {
		// The writer closed after the write: leave no member behind.
		_ = g.w.Delete(context.WithoutCancel(ctx), key)
		return nil, ErrClosed
	}
	go l.run()
	return l, nil
}

// Group returns the lease's group.
func (l *Lease[V]) Group() string { return l.group }

// Member returns the lease's member.
func (l *Lease[V]) Member() string { return l.member }

// TTL returns the lease's TTL.
func (l *Lease[V]) TTL() time.Duration { return l.ttl }

// Err returns the error of the last heartbeat if it failed, nil once one
// succeeds again.
func (l *Lease[V]) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Update writes a new value for the member now and re-publishes that value
// from then on. It returns the write's error (the lease keeps running
// either way), or ErrClosed after Revoke or Close.
func (l *Lease[V]) Update(ctx context.Context, value V) error {
	select {
	case <-l.stop:
		return ErrClosed
	default:
	}
	l.mu.Lock()
	l.value = value
	l.mu.Unlock()
	return l.g.w.Set(ctx, l.key, value)
}

// Revoke stops the heartbeats, waits for one in flight to finish (so none
// lands after the tombstone), then writes the member's tombstone and
// returns once it was acknowledged, or ctx's error. Later calls return the
// first call's result.
func (l *Lease[V]) Revoke(ctx context.Context) error {
	l.revoke.Do(func() {
		l.g.leases.remove(l)
		close(l.stop)
		select {
		case <-l.done:
		case <-ctx.Done():
			l.revoked = ctx.Err()
			return
		}
		if err := l.g.w.Delete(ctx, l.key); err != nil {
			l.revoked = fmt.Errorf("ktables: revoke lease %q/%q: %w", l.group, l.member, err)
		}
	})
	return l.revoked
}

// Close revokes the lease, waiting at most its TTL for the tombstone's
// acknowledgement: past that, readers expire the member anyway.
func (l *Lease[V]) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), l.ttl)
	defer cancel()
	return l.Revoke(ctx)
}

// period is the time to the next heartbeat: ttl/3 less up to 10 %.
func (l *Lease[V]) period() time.Duration {
	p := l.ttl / 3
	return p - rand.N(p/10+1)
}

func (l *Lease[V]) run() {
	defer close(l.done)
	bo := newBackoff(&l.g.w.cfg)
	bo.max = min(bo.max, l.ttl/3)
	wait := l.period()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-timer.C:
		}
		pos, err := l.beat()
		l.record(pos, err)
		switch {
		case err == nil:
			bo.reset()
			wait = l.period()
		case errors.Is(err, ErrClosed):
			return // the writer is closed; it revokes its leases itself
		default:
			l.g.w.log.Warn("ktables: lease heartbeat failed; retrying",
				slog.String("group", l.group), slog.String("member", l.member), slog.Any("error", err))
			wait = bo.duration()
		}
		timer.Reset(wait)
	}
}

// beat re-publishes the value; one heartbeat may take at most a period, so
// a stuck write is retried before the lease runs out.
func (l *Lease[V]) beat() (Position, error) {
	ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
	defer cancel()
	l.mu.Lock()
	v := l.value
	l.mu.Unlock()
	return l.g.w.set(ctx, l.key, v)
}

// leaseSet is a grouped writer's outstanding leases, revoked by its Close.
type leaseSet[V any] struct {
	mu     sync.Mutex
	m      map[*Lease[V]]struct{}
	closed bool
}

func (s *leaseSet[V]) add(l *Lease[V]) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.m == nil {
		s.m = make(map[*Lease[V]]struct{})
	}
	s.m[l] = struct{}{}
	return true
}

func (s *leaseSet[V]) remove(l *Lease[V]) {
	s.mu.Lock()
	delete(s.m, l)
	s.mu.Unlock()
}

// closeAll revokes every outstanding lease, in parallel, and stops new ones.
func (s *leaseSet[V]) closeAll() error {
	s.mu.Lock()
	s.closed = true
	leases := make([]*Lease[V], 0, len(s.m))
	for l := range s.m {
		leases = append(leases, l)
	}
	s.mu.Unlock()
	errs := make([]error, len(leases))
	var wg sync.WaitGroup
	for i, l := range leases {
		wg.Go(func() { errs[i] = l.Close() })
	}
	wg.Wait()
	return errors.Join(errs...)
}
