package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

// instance is one service instance of the demo: a process of its own, with
// its own transport and GroupedWriter, that announces its member with a
// lease (GroupedWriter.Announce) which heartbeats every ttl/3 until it is
// revoked — or until the instance crashes.
type instance struct {
	group, member, addr string
	out                 *narrator

	tr    transport.Transport // the instance's own, under the narrating wrapper
	w     *ktables.GroupedWriter[endpoint]
	lease *ktables.Lease[endpoint]

	mu       sync.Mutex
	writes   int       // acknowledged writes: the announcement, then heartbeats
	lastAck  time.Time // of the last acknowledged write
	crashed  bool      // the process is dead: nothing reaches the broker
	quiet    bool      // shutdown on Ctrl-C: tombstones are summed up, not narrated
	tombAt   string    // where the tombstone landed, for the quiet summary
	wroteSig chan struct{}
}

func newInstance(out *narrator, group, member, addr string) *instance {
	return &instance{group: group, member: member, addr: addr, out: out, wroteSig: make(chan struct{}, 1)}
}

func (in *instance) name() string { return in.group + "/" + in.member }

// announce connects the instance and announces its member with a lease.
func (in *instance) announce(ctx context.Context, cf *connFlags, topic string, ttl time.Duration) error {
	tr, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	in.tr = tr
	w, err := ktables.OpenGroupedWriter(ctx, &narratedTransport{Transport: tr, in: in}, topic, ktables.JSON[endpoint](), ktables.WithoutEnsureTopic())
	if err != nil {
		tr.Close()
		return err
	}
	lease, err := w.Announce(ctx, in.group, in.member, endpoint{Addr: in.addr}, ttl)
	if err != nil {
		w.Close()
		tr.Close()
		return err
	}
	in.w, in.lease = w, lease
	return nil
}

// crash kills the instance as a crashed process dies: its connections go
// away, and nothing more it sends reaches the broker — no tombstone, no
// heartbeat. The lease is not revoked: readers must expire the member.
func (in *instance) crash() (lastAck time.Time) {
	in.mu.Lock()
	in.crashed = true
	lastAck = in.lastAck
	in.mu.Unlock()
	in.tr.Close()
	return lastAck
}

// revoke ends the lease with an acknowledged tombstone (graceful leave).
func (in *instance) revoke(ctx context.Context) error {
	err := in.lease.Revoke(ctx)
	in.release()
	return err
}

// release closes the writer and the transport. For a crashed instance the
// writer's Close finds its lease still running and stops it; its tombstone
// cannot reach the broker any more than its heartbeats could.
func (in *instance) release() {
	_ = in.w.Close()
	_ = in.tr.Close()
}

// wrote narrates one write the instance's writer made, as the transport
// saw it acknowledged (or failed).
func (in *instance) wrote(rec transport.Record, pos string, took time.Duration, err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	took = took.Round(time.Microsecond)
	switch {
	case err != nil:
		if !in.crashed {
			in.out.say("instance %s: write failed: %v (the lease retries with backoff)", in.name(), err)
		}
		return
	case rec.Value == nil:
		in.tombAt = pos
		if !in.quiet {
			in.out.say("instance %s revoked its lease: tombstone acknowledged in %s at %s", in.name(), took, pos)
		}
		return
	}
	in.writes++
	in.lastAck = time.Now()
	if in.writes == 1 {
		in.out.say("instance %s announced %s with a lease (acknowledged in %s at %s)", in.name(), in.addr, took, pos)
	} else {
		in.out.say("instance %s heartbeat #%d (acknowledged in %s at %s)", in.name(), in.writes-1, took, pos)
	}
	select {
	case in.wroteSig <- struct{}{}:
	default:
	}
}

// heartbeats returns how many heartbeats were acknowledged.
func (in *instance) heartbeats() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return max(0, in.writes-1)
}

// narratedTransport is an instance's transport: it narrates every write
// the instance's writer and lease make (heartbeats included, which the
// lease makes on its own), and refuses every write once the instance
// crashed.
type narratedTransport struct {
	transport.Transport
	in *instance
}

// dead returns the error of a crashed instance's calls, nil while it lives:
// fatal, so that its writer does not retry.
func (n *narratedTransport) dead(op, topic string) error {
	n.in.mu.Lock()
	defer n.in.mu.Unlock()
	if !n.in.crashed {
		return nil
	}
	return transport.NewError(op, topic, transport.ErrClosed, fmt.Errorf("instance %s crashed", n.in.name()))
}

func (n *narratedTransport) Partitions(ctx context.Context, topic string) ([]int32, error) {
	if err := n.dead("partitions", topic); err != nil {
		return nil, err
	}
	return n.Transport.Partitions(ctx, topic)
}

func (n *narratedTransport) Produce(ctx context.Context, topic string, rec transport.Record) (int64, error) {
	if err := n.dead("produce", topic); err != nil {
		return -1, err
	}
	start := time.Now()
	off, err := n.Transport.Produce(ctx, topic, rec)
	n.in.wrote(rec, fmt.Sprintf("p%d@%d", rec.Partition, off), time.Since(start), err)
	return off, err
}
