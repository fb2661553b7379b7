package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	Addr  string `json:"addr"`
	Beats int    `json:"beats"`
}

func runDemo(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "demo", "",
		"Run the library's main job and narrate every step and every write: ensure a compacted topic,\n"+
			"start a few service instances that announce themselves in a grouped registry (each with its\n"+
			"own GroupedWriter) and heartbeat, follow the live view, delete a member with a tombstone,\n"+
			"measure a read-your-own-writes barrier and print the table's stats. Without --brokers (or\n"+
			"$"+envBrokers+") it starts an embedded in-process broker; with --brokers it uses a fresh topic\n"+
			"ktables-demo-<random> and deletes it at the end. Ctrl-C ends it early: the instances leave\n"+
			"(tombstones) and it exits 0.")
	var cf connFlags
	cf.register(fs.FlagSet, sio)
	fs.Lookup("timeout").Usage = "bound on each network step, on top of --duration"
	duration := fs.Duration("duration", 10*time.Second, "how long the demo runs")
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
	d := &demo{cf: &cf, out: &narrator{w: sio.stdout, start: time.Now()}, duration: *duration}
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

// heartbeatInterval is how often each instance rewrites its entry.
var heartbeatInterval = time.Second

type demo struct {
	cf          *connFlags
	out         *narrator
	duration    time.Duration
	tr          transport.Transport
	topic       string
	reg         *ktables.GroupedTable[endpoint]
	live        []*instance // announced and not left
	interrupted bool
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
	// Every network step is bounded by --timeout on top of the demo's length.
	ctx, cancel := context.WithTimeout(parent, d.duration+d.cf.timeout)
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
	d.out.say("client: %s", d.cf.client)

	d.topic = "ktables-demo-" + randomHex(4)
	res, err := ensureTopic(ctx, tr, d.topic, []ktables.Option{ktables.WithPartitions(3)})
	if err != nil {
		return d.cf.explain(ctx, fmt.Sprintf("ensuring topic %q", d.topic), err)
	}
	policy := res.Policy // the policy read; a created topic has the default
	if res.Outcome == ktables.OutcomeCreated {
		policy = "compact"
	}
	d.out.say("ensure-topic %s: %s (cleanup.policy=%s, 3 partitions)", res.Topic, res.Outcome, policy)
	if external && res.Outcome == ktables.OutcomeCreated {
		defer d.deleteTopic(ctx)
	}

	// The registry: a grouped table whose hooks wake the view printer.
	changed := make(chan struct{}, 1)
	wake := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	reg, err := ktables.OpenGrouped(ctx, tr, d.topic, ktables.JSON[endpoint](),
		ktables.WithoutEnsureTopic(),
		ktables.OnMemberSet(func(string, string, endpoint) { wake() }),
		ktables.OnMemberDelete(func(string, string, endpoint) { wake() }),
	)
	if err != nil {
		return d.cf.explain(ctx, "opening the registry", err)
	}
	defer reg.Close()
	d.reg = reg
	d.out.say("registry open: %s, %d members (GroupedTable over %s)", reg.Status(), reg.TotalMembers(), d.topic)

	viewDone := make(chan struct{})
	stopView := make(chan struct{})
	go func() {
		defer close(viewDone)
		last := ""
		for {
			select {
			case <-changed:
				if v := view(reg.Snapshot()); v != last {
					last = v
					d.out.say("live view: %s", v)
				}
			case <-stopView:
				return
			}
		}
	}()
	defer func() {
		close(stopView)
		<-viewDone
	}()
	// Whatever ends the demo, the instances still announced leave.
	defer d.leaveAll(ctx, parent)

	if err := d.main(ctx, parent); err != nil {
		return err
	}
	if parent.Err() != nil {
		return nil // leaveAll narrates the interruption
	}
	if err := d.leaveAll(ctx, parent); err != nil {
		return err
	}
	s := reg.Stats()
	d.out.say("stats: %d records applied, %d tombstones, %d skipped, %d retries; caught up in %s over %d partitions",
		s.RecordsApplied, s.TombstonesApplied,
		s.KeylessRecords+s.KeyDecodeErrors+s.ForeignKeys+s.ValueDecodeErrors, s.Retries,
		s.CatchUpDuration.Round(time.Microsecond), s.Partitions)
	d.out.say("done")
	return nil
}

// main is the demo's story between opening the registry and shutdown.
func (d *demo) main(ctx, parent context.Context) error {
	reg := d.reg
	// Three instances announce themselves concurrently.
	insts := []*instance{
		{group: "billing", member: "host-a", addr: "10.0.0.1:8080"},
		{group: "billing", member: "host-b", addr: "10.0.0.2:8080"},
		{group: "search", member: "host-a", addr: "10.0.1.1:9200"},
	}
	if err := d.startAll(ctx, insts...); err != nil {
		return err
	}

	// Read your own writes: every acknowledged announcement is visible.
	lat, err := d.barrier(ctx)
	if err != nil {
		return err
	}
	d.out.say("barrier: %s — all %d acknowledged announcements visible (%d members in %d groups)",
		lat, len(insts), reg.TotalMembers(), reg.GroupCount())
	if ep, ok := reg.Get("billing", "host-a"); ok {
		d.out.say("lookup billing/host-a -> %s (a memory read, no network)", ep.Addr)
	}

	// One instance leaves: a tombstone removes its member.
	leaver := insts[2]
	if err := d.leave(ctx, leaver); err != nil {
		return d.cf.explain(ctx, "deleting search/host-a", err)
	}
	d.out.say("instance search/host-a left: tombstone acknowledged")
	lat, err = d.barrier(ctx)
	if err != nil {
		return err
	}
	d.out.say("barrier: %s — search/host-a present: %v; view: %s", lat, reg.Has("search", "host-a"), view(reg.Snapshot()))

	// Halfway through, a new instance joins; until the end the others
	// heartbeat (updating their values).
	deadline := time.NewTimer(time.Until(d.out.start.Add(d.duration)))
	defer deadline.Stop()
	half := time.NewTimer(time.Until(d.out.start.Add(d.duration / 2)))
	defer half.Stop()
	joined := false
	join := func() error {
		joined = true
		return d.startAll(ctx, &instance{group: "search", member: "host-c", addr: "10.0.1.3:9200"})
	}
	for {
		select {
		case <-half.C:
			if !joined {
				if err := join(); err != nil {
					return err
				}
			}
		case <-deadline.C:
			if !joined {
				return join()
			}
			return nil
		case <-parent.Done():
			return nil
		}
	}
}

// leaveAll makes every live instance leave with a tombstone, under a
// context of its own so that Ctrl-C does not cancel the goodbyes, then
// narrates the outcome in one line.
func (d *demo) leaveAll(ctx, parent context.Context) error {
	if len(d.live) == 0 {
		return nil
	}
	insts := d.live
	d.live = nil
	cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), d.cf.timeout)
	defer ccancel()
	var wg sync.WaitGroup
	errs := make([]error, len(insts))
	for i, in := range insts {
		wg.Go(func() { errs[i] = in.leave(cctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return d.cf.explain(cctx, "deleting "+insts[i].name(), err)
		}
	}
	lat, err := d.barrier(cctx)
	if err != nil {
		return err
	}
	if parent.Err() != nil {
		d.interrupted = true
		d.out.say("interrupted: %s left with acknowledged tombstones; barrier %s; view: %s",
			plural(len(insts), "instance"), lat, view(d.reg.Snapshot()))
		return nil
	}
	d.out.say("shutdown: every instance left; barrier %s; view: %s", lat, view(d.reg.Snapshot()))
	return nil
}

// leave makes one instance leave and forgets it.
func (d *demo) leave(ctx context.Context, in *instance) error {
	d.live = slices.DeleteFunc(d.live, func(x *instance) bool { return x == in })
	return in.leave(ctx)
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

// barrier runs a Barrier on the registry and returns its latency.
func (d *demo) barrier(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	if err := d.reg.Barrier(ctx); err != nil {
		return 0, d.cf.explain(ctx, "barrier", err)
	}
	return time.Since(start).Round(time.Microsecond), nil
}

// startAll starts the instances concurrently and waits until each one's
// announcement was acknowledged.
func (d *demo) startAll(ctx context.Context, insts ...*instance) error {
	var wg sync.WaitGroup
	errs := make([]error, len(insts))
	for i, in := range insts {
		// Stagger the heartbeats so that the narration has no long gaps.
		phase := heartbeatInterval * time.Duration(len(d.live)+i) / 3
		wg.Go(func() { errs[i] = in.start(ctx, d.tr, d.topic, d.out, phase) })
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			d.live = append(d.live, insts[i])
		}
	}
	for i, err := range errs {
		if err != nil {
			return d.cf.explain(ctx, "announcing "+insts[i].name(), err)
		}
	}
	return nil
}

// instance is one service instance: its own GroupedWriter announces its
// member and heartbeats until it leaves.
type instance struct {
	group, member, addr string

	w    *ktables.GroupedWriter[endpoint]
	stop chan struct{}
	done chan struct{}
}

func (in *instance) name() string { return in.group + "/" + in.member }

func (in *instance) start(ctx context.Context, tr transport.Transport, topic string, out *narrator, phase time.Duration) error {
	w, err := ktables.OpenGroupedWriter(ctx, tr, topic, ktables.JSON[endpoint](), ktables.WithoutEnsureTopic())
	if err != nil {
		return err
	}
	if err := w.Set(ctx, in.group, in.member, endpoint{Addr: in.addr}); err != nil {
		w.Close()
		return err
	}
	out.say("instance %s announced %s (acknowledged)", in.name(), in.addr)
	in.w, in.stop, in.done = w, make(chan struct{}), make(chan struct{})
	go in.heartbeat(ctx, out, phase)
	return nil
}

// heartbeat rewrites the instance's value every heartbeatInterval, as a
// registry member refreshing its entry would, and narrates each write.
func (in *instance) heartbeat(ctx context.Context, out *narrator, phase time.Duration) {
	defer close(in.done)
	first := time.NewTimer(heartbeatInterval/2 + phase)
	select {
	case <-in.stop:
		first.Stop()
		return
	case <-ctx.Done():
		first.Stop()
		return
	case <-first.C:
	}
	tick := time.NewTicker(heartbeatInterval)
	defer tick.Stop()
	for beats := 1; ; beats++ {
		start := time.Now()
		err := in.w.Set(ctx, in.group, in.member, endpoint{Addr: in.addr, Beats: beats})
		switch {
		case err == nil:
			out.say("instance %s heartbeat #%d (acknowledged in %s)", in.name(), beats, time.Since(start).Round(time.Microsecond))
		case ctx.Err() == nil:
			out.say("instance %s heartbeat #%d failed: %v", in.name(), beats, err)
		}
		select {
		case <-in.stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// leave stops the heartbeat and deletes the member with a tombstone.
func (in *instance) leave(ctx context.Context) error {
	close(in.stop)
	<-in.done
	defer in.w.Close()
	return in.w.Delete(ctx, in.group, in.member)
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
