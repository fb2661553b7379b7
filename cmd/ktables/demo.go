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
		"Run the library's main job and narrate it: ensure a compacted topic, start a few service\n"+
			"instances that announce themselves in a grouped registry (each with its own GroupedWriter),\n"+
			"follow the live view, delete a member with a tombstone, measure a read-your-own-writes\n"+
			"barrier and print the table's stats. Without --brokers (or $"+envBrokers+") it starts an\n"+
			"embedded in-process broker; with --brokers it uses a fresh topic ktables-demo-<random>.")
	var cf connFlags
	cf.register(fs, sio)
	duration := fs.Duration("duration", 10*time.Second, "how long the demo runs")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("demo takes no arguments, got %q", pos)
	}
	if err := cf.validate(false); err != nil {
		return err
	}
	if *duration < 0 {
		return usagef("--duration must not be negative")
	}
	d := &demo{cf: &cf, out: &narrator{w: sio.stdout, start: time.Now()}, duration: *duration}
	return d.run(ctx)
}

type demo struct {
	cf       *connFlags
	out      *narrator
	duration time.Duration
	tr       transport.Transport
	topic    string
	reg      *ktables.GroupedTable[endpoint]
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

	if len(d.cf.seeds()) == 0 {
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
	if err := leaver.leave(ctx); err != nil {
		return d.cf.explain(ctx, "deleting search/host-a", err)
	}
	d.out.say("instance search/host-a left: tombstone acknowledged")
	lat, err = d.barrier(ctx)
	if err != nil {
		return err
	}
	d.out.say("barrier: %s — search/host-a present: %v; view: %s", lat, reg.Has("search", "host-a"), view(reg.Snapshot()))
	insts = insts[:2]

	// Halfway through, a new instance joins; until the end the others
	// heartbeat (updating their values).
	deadline := time.NewTimer(time.Until(d.out.start.Add(d.duration)))
	defer deadline.Stop()
	half := time.NewTimer(time.Until(d.out.start.Add(d.duration / 2)))
	defer half.Stop()
	joined := false
wait:
	for {
		select {
		case <-half.C:
			if !joined {
				joined = true
				in := &instance{group: "search", member: "host-c", addr: "10.0.1.3:9200"}
				if err := d.startAll(ctx, in); err != nil {
					return err
				}
				insts = append(insts, in)
			}
		case <-deadline.C:
			break wait
		case <-parent.Done():
			d.out.say("interrupted")
			break wait
		}
	}
	if !joined {
		in := &instance{group: "search", member: "host-c", addr: "10.0.1.3:9200"}
		if err := d.startAll(ctx, in); err != nil {
			return err
		}
		insts = append(insts, in)
	}

	// Shutdown: every instance leaves gracefully.
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
	lat, err = d.barrier(cctx)
	if err != nil {
		return err
	}
	d.out.say("shutdown: every instance left; barrier %s; view: %s", lat, view(reg.Snapshot()))

	s := reg.Stats()
	d.out.say("stats: %d records applied, %d tombstones, %d skipped, %d retries; caught up in %s over %d partitions",
		s.RecordsApplied, s.TombstonesApplied,
		s.KeylessRecords+s.KeyDecodeErrors+s.ForeignKeys+s.ValueDecodeErrors, s.Retries,
		s.CatchUpDuration.Round(time.Microsecond), s.Partitions)
	if err := parent.Err(); err != nil {
		return fmt.Errorf("demo interrupted")
	}
	d.out.say("done")
	return nil
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
		wg.Go(func() { errs[i] = in.start(ctx, d.tr, d.topic, d.out) })
	}
	wg.Wait()
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

func (in *instance) start(ctx context.Context, tr transport.Transport, topic string, out *narrator) error {
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
	go in.heartbeat(ctx)
	return nil
}

// heartbeat rewrites the instance's value every 500 ms, as a registry
// member refreshing its entry would.
func (in *instance) heartbeat(ctx context.Context) {
	defer close(in.done)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for beats := 1; ; beats++ {
		select {
		case <-in.stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
			_ = in.w.Set(ctx, in.group, in.member, endpoint{Addr: in.addr, Beats: beats})
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
