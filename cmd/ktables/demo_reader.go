package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

// reader is one reader of the demo's registry, as another service's
// process would have it: its own transport and a grouped table opened
// WithTTL, followed by a watch (GroupedTable.Watch). The first reader's
// watch narrates every event; every reader narrates the expiries it sees.
type reader struct {
	name     string
	out      *narrator
	ttl      time.Duration
	printAll bool

	tr  transport.Transport
	reg *ktables.GroupedTable[endpoint]

	mu      sync.Mutex
	members map[string]bool      // as the watch's events built it
	expired map[string]time.Time // member -> when this reader saw it expire
	changed chan struct{}        // signalled after every event
	done    chan struct{}        // closed when the watch ended
}

func openReader(ctx context.Context, cf *connFlags, out *narrator, name, topic string, ttl time.Duration, printAll bool) (*reader, error) {
	tr, err := cf.connect(ctx)
	if err != nil {
		return nil, err
	}
	reg, err := ktables.OpenGrouped(ctx, tr, topic, ktables.JSON[endpoint](), ktables.WithoutEnsureTopic(), ktables.WithTTL(ttl))
	if err == nil {
		err = reg.WaitCaughtUp(ctx)
		if err != nil {
			reg.Close()
		}
	}
	if err != nil {
		tr.Close()
		return nil, err
	}
	return &reader{
		name: name, out: out, ttl: ttl, printAll: printAll, tr: tr, reg: reg,
		members: map[string]bool{}, expired: map[string]time.Time{},
		changed: make(chan struct{}, 1), done: make(chan struct{}),
	}, nil
}

func (r *reader) close() {
	r.reg.Close()
	r.tr.Close()
}

// watch follows the registry until ctx ends or the table closes.
func (r *reader) watch(ctx context.Context) {
	defer close(r.done)
	for ev, err := range r.reg.Watch(ctx) {
		if err != nil {
			return
		}
		r.event(ev)
		select {
		case r.changed <- struct{}{}:
		default:
		}
	}
}

func (r *reader) event(ev ktables.GroupedEvent[endpoint]) {
	name := ev.Group + "/" + ev.Member
	say := func(format string, args ...any) {
		if r.printAll {
			r.out.say("watch (%s): "+format, append([]any{r.name}, args...)...)
		}
	}
	at := fmt.Sprintf("p%d@%d", ev.Position.Partition, ev.Position.Offset)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev.Kind {
	case ktables.EventSnapshot:
		r.members[name] = true
		say("snapshot %s = %s", name, ev.New.Addr)
	case ktables.EventSynced:
		say("synced: %s as of %v; changes follow", plural(len(r.members), "member"), syncedToken(r.reg.Topic(), ev.Positions))
	case ktables.EventSet:
		r.members[name] = true
		switch {
		case !ev.HadOld:
			say("set %s = %s (a new member; record %s)", name, ev.New.Addr, at)
		case ev.Old == ev.New:
			say("set %s (heartbeat: same value, lease renewed; record %s)", name, at)
		default:
			say("set %s = %s (was %s; record %s)", name, ev.New.Addr, ev.Old.Addr, at)
		}
	case ktables.EventDelete:
		delete(r.members, name)
		say("delete %s (tombstone %s)", name, at)
	case ktables.EventExpired:
		delete(r.members, name)
		r.expired[name] = time.Now()
		r.out.say("%s: %s expired: its last record (%s) is %s old, past the %s TTL; gone from this reader's view",
			r.name, name, at, time.Since(ev.Time).Round(time.Millisecond), r.ttl)
	case ktables.EventReset:
		clear(r.members)
		say("reset: the watch fell behind; a fresh snapshot follows")
	}
}

// waitUntil waits until cond, checked under the reader's lock after every
// event, holds.
func (r *reader) waitUntil(ctx context.Context, cond func() bool) error {
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-r.changed:
		case <-r.done:
			return fmt.Errorf("%s: the watch ended", r.name)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitExpired waits until the reader saw member expire, and returns when.
func (r *reader) waitExpired(ctx context.Context, member string, since time.Time) (time.Time, error) {
	var at time.Time
	err := r.waitUntil(ctx, func() bool {
		t, ok := r.expired[member]
		if ok && !t.Before(since) {
			at = t
			return true
		}
		return false
	})
	return at, err
}

// waitMembers waits until the watch's view holds exactly names.
func (r *reader) waitMembers(ctx context.Context, names ...string) error {
	return r.waitUntil(ctx, func() bool {
		return slices.Equal(slices.Sorted(maps.Keys(r.members)), slices.Sorted(slices.Values(names)))
	})
}
