package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

// endpoint is what each instance of the demo announces in the registry.
type endpoint struct {
	Addr string `json:"addr"`
}

func runDemo(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "demo", "",
		"Run the library's main job, a live service registry, and narrate every step and every write:\n"+
			"ensure a compacted topic (LogAppendTime), open two readers WithTTL and watch one of them, start\n"+
			"three service instances that announce themselves with leases (GroupedWriter.Announce: each\n"+
			"with its own transport and writer, heartbeating every ttl/3), measure a read-your-own-writes\n"+
			"barrier, crash one instance (its transport closes; no tombstone) and show it expire from\n"+
			"every reader's view after the TTL, restart it, and at the end revoke every lease (tombstones)\n"+
			"and print the table's stats. Without --brokers (or $"+envBrokers+") it starts an embedded\n"+
			"in-process broker; with --brokers it uses a fresh topic ktables-demo-<random> and deletes it\n"+
			"at the end. Ctrl-C ends it early: the leases are revoked (tombstones) and it exits 0.")
	var cf connFlags
	cf.register(fs.FlagSet, sio)
	fs.Lookup("timeout").Usage = "bound on each network step, on top of --duration"
	duration := fs.Duration("duration", 10*time.Second, "how long the demo runs, at least: the crash and expiry it shows take about 1.5 × --ttl")
	ttl := fs.Duration("ttl", 3*time.Second, "the instances' lease TTL (heartbeats every ttl/3) and the readers' WithTTL")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("demo takes no arguments, got %s", plural(len(pos), "argument"))
	}
	if err := cf.validate(false); err != nil {
		return err
	}
	if *duration < 0 {
		return usagef("--duration must not be negative")
	}
	if *ttl < ktables.MinTTL {
		return usagef("--ttl must be at least %s, got %s", ktables.MinTTL, *ttl)
	}
	d := &demo{cf: &cf, out: &narrator{w: sio.stdout, start: time.Now()}, duration: *duration, ttl: *ttl}
	err = d.run(ctx)
	if ctx.Err() != nil {
		// Ctrl-C is how a demo is meant to end early: not an error.
		switch {
		case d.interrupted:
		case err != nil:
			d.out.say("interrupted: %s", errorLine(err)[len("ktables: "):])
		default:
			d.out.say("interrupted")
		}
		return nil
	}
	return err
}

type demo struct {
	cf            *connFlags
	out           *narrator
	duration, ttl time.Duration
	tr            transport.Transport // topic management
	topic         string
	readers       []*reader
	live          []*instance // announced, neither crashed nor revoked
	crashed       []*instance
	interrupted   bool
}

// narrator prints numbered lines with the time since the demo started.
type narrator struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func (n *narrator) say(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fmt.Fprintf(n.w, "[%6.3fs] %s\n", time.Since(n.start).Seconds(), fmt.Sprintf(format, args...))
}

func (d *demo) run(parent context.Context) error {
	// Every network step is bounded by --timeout on top of the demo's
	// length and the crash story's.
	ctx, cancel := context.WithTimeout(parent, d.duration+3*d.ttl+d.cf.timeout)
	defer cancel()

	external := len(d.cf.seeds()) > 0
	if !external {
		c, err := startBroker("127.0.0.1", 0, 3, false)
		if err != nil {
			return err
		}
		defer c.Close()
		d.cf.brokers = c.ListenAddrs()[0]
		d.out.say("embedded broker: in-process kfake on %s (pass --brokers host:port for a real cluster)", d.cf.brokers)
	} else {
		d.out.say("cluster: %s", d.cf.brokers)
	}
	tr, err := d.cf.connect(ctx)
	if err != nil {
		return d.cf.explain(ctx, "connecting", err)
	}
	defer tr.Close()
	d.tr = tr
	d.out.say("client: %s; every instance and every reader below has a connection of its own, as separate processes would", d.cf.client)

	d.topic = "ktables-demo-" + randomHex(4)
	res, err := ensureTopic(ctx, tr, d.topic, []ktables.Option{ktables.WithPartitions(3), ktables.WithLogAppendTime()})
	if err != nil {
		return d.cf.explain(ctx, fmt.Sprintf("ensuring topic %q", d.topic), err)
	}
	policy := res.Policy // the policy read; a created topic has the default
	if res.Outcome == ktables.OutcomeCreated {
		policy = "compact"
	}
	d.out.say("ensure-topic %s: %s (cleanup.policy=%s, 3 partitions, message.timestamp.type=LogAppendTime: the broker's clock stamps heartbeats)",
		res.Topic, res.Outcome, policy)
	if external && res.Outcome == ktables.OutcomeCreated {
		defer d.deleteTopic(ctx)
	}

	// Two readers, as two other services would have them; the first one's
	// watch narrates every event.
	wctx, stopWatches := context.WithCancel(ctx)
	var watches sync.WaitGroup
	defer func() {
		stopWatches()
		watches.Wait()
		for _, r := range d.readers {
			r.close()
		}
	}()
	for i := range 2 {
		name := fmt.Sprintf("reader-%d", i+1)
		r, err := openReader(ctx, d.cf, d.out, name, d.topic, d.ttl, i == 0)
		if err != nil {
			return d.cf.explain(ctx, "opening "+name, err)
		}
		d.readers = append(d.readers, r)
		d.out.say("%s open: %s, %s (GroupedTable WithTTL(%s): hides a member whose last record is older)",
			name, r.reg.Status(), plural(r.reg.TotalMembers(), "member"), d.ttl)
		watches.Go(func() { r.watch(wctx) })
	}

	err = d.main(ctx, parent)
	if parent.Err() != nil {
		stopWatches() // one line on Ctrl-C: the watch stops narrating
	}
	if serr := d.shutdown(ctx, parent); err == nil {
		err = serr
	}
	if err != nil || parent.Err() != nil {
		return err
	}
	s := d.readers[0].reg.Stats()
	d.out.say("stats (reader-1): %d records applied, %d tombstones, %d skipped, %d retries; caught up in %s over %d partitions",
		s.RecordsApplied, s.TombstonesApplied,
		s.KeylessRecords+s.KeyDecodeErrors+s.ForeignKeys+s.ValueDecodeErrors, s.Retries,
		s.CatchUpDuration.Round(time.Microsecond), s.Partitions)
	d.out.say("done")
	return nil
}

// main is the demo's story between opening the readers and shutdown. It
// returns nil early on Ctrl-C.
func (d *demo) main(ctx, parent context.Context) error {
	insts := []*instance{
		newInstance(d.out, "billing", "host-a", "10.0.0.1:8080"),
		newInstance(d.out, "billing", "host-b", "10.0.0.2:8080"),
		newInstance(d.out, "search", "host-a", "10.0.1.1:9200"),
	}
	// Announced a ninth of a TTL apart, so that the heartbeats (every
	// ttl/3) spread out instead of arriving together.
	for i, in := range insts {
		if i > 0 && !d.pause(parent, d.ttl/9) {
			return nil
		}
		if err := d.start(ctx, in); err != nil {
			return err
		}
	}
	reg := d.readers[0].reg
	lat, err := d.barrier(ctx)
	if err != nil {
		return err
	}
	d.out.say("barrier (reader-1): %s — all %d acknowledged announcements visible (%d members in %d groups)",
		lat, len(insts), reg.TotalMembers(), reg.GroupCount())
	if ep, ok := reg.Get("billing", "host-a"); ok {
		d.out.say("lookup billing/host-a -> %s (a memory read, no network)", ep.Addr)
	}

	// A fifth of the way in, once it has heartbeaten, one instance crashes.
	victim := insts[2]
	crashAt := d.out.start.Add(d.duration / 5)
	for time.Now().Before(crashAt) || victim.heartbeats() == 0 {
		wait := time.NewTimer(max(time.Until(crashAt), time.Millisecond))
		select {
		case <-parent.Done():
			wait.Stop()
			return nil
		case <-ctx.Done():
			wait.Stop()
			return d.cf.explain(ctx, "waiting for a heartbeat of "+victim.name(), ctx.Err())
		case <-victim.wroteSig:
		case <-wait.C:
		}
		wait.Stop()
	}
	d.live = slices.DeleteFunc(d.live, func(x *instance) bool { return x == victim })
	d.crashed = append(d.crashed, victim)
	crashed := time.Now()
	lastAck := victim.crash()
	d.out.say("instance %s CRASHES: its process dies without a tombstone (its transport closes; the lease is not revoked); last heartbeat acknowledged at [%6.3fs]",
		victim.name(), lastAck.Sub(d.out.start).Seconds())

	// Every reader hides it once its last record is older than the TTL.
	var gone []string
	for _, r := range d.readers {
		at, err := r.waitExpired(ctx, victim.name(), crashed)
		if err != nil {
			if parent.Err() != nil {
				return nil
			}
			return d.cf.explain(ctx, r.name+" expiring "+victim.name(), err)
		}
		gone = append(gone, fmt.Sprintf("%s after %s", r.name, at.Sub(lastAck).Round(time.Millisecond)))
	}
	d.out.say("%s is gone from every reader's view, counted from its last acknowledged heartbeat: %s (TTL %s); view: %s",
		victim.name(), strings.Join(gone, ", "), d.ttl, view(reg.Snapshot()))

	// Halfway (or a heartbeat later), it restarts and announces again:
	// readers show it again.
	if !d.pause(parent, max(d.ttl/3, time.Until(d.out.start.Add(d.duration/2)))) {
		return nil
	}
	d.out.say("instance %s restarts and announces itself again", victim.name())
	if err := d.start(ctx, newInstance(d.out, victim.group, victim.member, victim.addr)); err != nil {
		return err
	}
	if err := d.readers[0].waitMembers(ctx, "billing/host-a", "billing/host-b", "search/host-a"); err != nil {
		if parent.Err() != nil {
			return nil
		}
		return d.cf.explain(ctx, "reader-1 showing "+victim.name()+" again", err)
	}
	d.out.say("reader-1 shows %s again; view: %s", victim.name(), view(reg.Snapshot()))

	// Until the end, the leases heartbeat.
	d.pause(parent, time.Until(d.out.start.Add(d.duration)))
	return nil
}

// pause waits for d, or until Ctrl-C; false means Ctrl-C.
func (d *demo) pause(parent context.Context, dur time.Duration) bool {
	if dur <= 0 {
		return parent.Err() == nil
	}
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-parent.Done():
		return false
	}
}

// start announces an instance and counts it live.
func (d *demo) start(ctx context.Context, in *instance) error {
	if err := in.announce(ctx, d.cf, d.topic, d.ttl); err != nil {
		return d.cf.explain(ctx, "announcing "+in.name(), err)
	}
	d.live = append(d.live, in)
	return nil
}

// shutdown revokes every live lease (acknowledged tombstones) under a
// context of its own, so that Ctrl-C does not cancel the goodbyes, releases
// the crashed instances, and narrates the outcome: after Ctrl-C in one line.
func (d *demo) shutdown(ctx, parent context.Context) error {
	for _, in := range d.crashed {
		in.release()
	}
	d.crashed = nil
	if len(d.live) == 0 {
		return nil
	}
	insts := d.live
	d.live = nil
	cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), d.cf.timeout)
	defer ccancel()
	quiet := parent.Err() != nil
	if !quiet {
		d.out.say("shutdown: every instance revokes its lease")
	}
	var wg sync.WaitGroup
	errs := make([]error, len(insts))
	for i, in := range insts {
		in.mu.Lock()
		in.quiet = quiet
		in.mu.Unlock()
		wg.Go(func() { errs[i] = in.revoke(cctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return d.cf.explain(cctx, "revoking the leases", err)
	}
	lat, err := d.barrier(cctx)
	if err != nil {
		return err
	}
	reg := d.readers[0].reg
	if quiet {
		var at []string
		for _, in := range insts {
			at = append(at, in.name()+" "+in.tombAt)
		}
		d.interrupted = true
		d.out.say("interrupted: %s revoked their leases: tombstones acknowledged (%s); barrier %s; view: %s",
			plural(len(insts), "instance"), strings.Join(at, ", "), lat, view(reg.Snapshot()))
		return nil
	}
	if err := d.readers[0].waitMembers(cctx); err != nil {
		return d.cf.explain(cctx, "reader-1 seeing the tombstones", err)
	}
	d.out.say("shutdown: every lease revoked; barrier %s; view: %s", lat, view(reg.Snapshot()))
	return nil
}

// deleteTopic removes the topic the demo created on a cluster, where the
// transport can (transport.TopicDeleter). The embedded broker's topics go
// with the broker.
func (d *demo) deleteTopic(ctx context.Context) {
	del, ok := d.tr.(transport.TopicDeleter)
	if !ok {
		d.out.say("topic %s left behind: the %s transport cannot delete topics", d.topic, d.cf.client)
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cf.timeout)
	defer cancel()
	if err := del.DeleteTopic(dctx, d.topic); err != nil {
		d.out.say("could not delete topic %s: %v", d.topic, err)
		return
	}
	d.out.say("deleted topic %s", d.topic)
}

// barrier runs a Barrier on the first reader and returns its latency.
func (d *demo) barrier(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	if err := d.readers[0].reg.Barrier(ctx); err != nil {
		return 0, d.cf.explain(ctx, "barrier", err)
	}
	return time.Since(start).Round(time.Microsecond), nil
}

// view renders a registry snapshot compactly: billing=[host-a host-b] search=[].
func view(snap map[string]map[string]endpoint) string {
	if len(snap) == 0 {
		return "(empty)"
	}
	var b strings.Builder
	for i, g := range slices.Sorted(maps.Keys(snap)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=[%s]", g, strings.Join(slices.Sorted(maps.Keys(snap[g])), " "))
	}
	return b.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
