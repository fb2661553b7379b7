package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

// change is one line of watch output: an event of Table.Watch.
type change struct {
	Op        string      `json:"op"`
	Key       *string     `json:"key,omitempty"`
	Group     *string     `json:"group,omitempty"`
	Member    *string     `json:"member,omitempty"`
	Value     *shownValue `json:"value,omitempty"`
	Old       *shownValue `json:"old,omitempty"`
	Time      string      `json:"time,omitempty"`
	Partition *int32      `json:"partition,omitempty"`
	Offset    *int64      `json:"offset,omitempty"`
	// Token is, for "synced", the position the snapshot reflects, in the
	// form --wait-for takes.
	Token string `json:"token,omitempty"`
}

func runWatch(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "watch", "",
		"Open a table (never creating its topic), wait until it has caught up, then print every change\n"+
			"(Table.Watch) as one JSON line: {\"op\":\"set\",\"key\":...,\"value\":...,\"old\":...} (old: the value\n"+
			"replaced, if any), {\"op\":\"delete\",\"key\":...,\"old\":...}, and with --ttl {\"op\":\"expired\",...}\n"+
			"for a key whose last record got older than the TTL; each with the record's \"time\", \"partition\"\n"+
			"and \"offset\". Grouped tables add \"group\" and \"member\". --snapshot prints the contents first\n"+
			"({\"op\":\"snapshot\",...} lines, then {\"op\":\"synced\",\"token\":...}). A watch that falls too far\n"+
			"behind prints {\"op\":\"reset\"}, then a fresh snapshot and synced line: forget what you had.\n"+
			"Runs until interrupted or --duration passes. When the brokers cannot be reached it keeps\n"+
			"retrying and says so on stderr, and again once they answer. A change --keys or --values\n"+
			"cannot show is skipped with a line on stderr.")
	var tf tableFlags
	tf.register(fs, sio, useRead)
	tf.registerTTL(fs)
	fs.Lookup("timeout").Usage = "bound on connecting and catching up; the watch itself runs until --duration or Ctrl-C"
	duration := fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
	coalesce := fs.Bool("coalesce", false, "when output falls behind, print only the latest value per key (what a config\n"+
		"reloader wants) instead of every intermediate change")
	snapshot := fs.Bool("snapshot", false, "print the contents at catch-up first, as snapshot lines and a synced line")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("watch takes no arguments, got %s", plural(len(pos), "argument"))
	}
	if err := tf.validate(); err != nil {
		return err
	}
	if *duration < 0 {
		return usagef("--duration must not be negative")
	}

	var mu sync.Mutex // orders stdout and stderr lines
	note := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(sio.stderr, "ktables: watch: "+format+"\n", args...)
	}
	openCtx, cancel := context.WithTimeout(ctx, tf.timeout)
	defer cancel()
	tr, err := tf.connect(openCtx)
	if err != nil {
		return tf.explain(openCtx, "connecting", err)
	}
	defer tr.Close()
	t, err := openTable(openCtx, sio, &tf, tr, hooks{})
	if err != nil {
		return err
	}
	defer t.Close()

	wctx, stop := context.WithCancel(ctx)
	defer stop()
	if *duration > 0 {
		wctx, stop = context.WithTimeout(ctx, *duration)
		defer stop()
	}
	// A table that fails (a deleted topic, lost authorization) ends the
	// watch; an unreachable broker does not: the table retries, and the
	// watch says so.
	healthDone := make(chan struct{})
	go func() {
		defer close(healthDone)
		h := &health{tr: tr, topic: tf.topic, retries: t.Stats().Retries}
		tick := time.NewTicker(healthInterval)
		defer tick.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-tick.C:
				if msg := h.check(wctx, t.Stats().Retries); msg != "" {
					note("%s", msg)
				}
			}
		}
	}()
	defer func() { stop(); <-healthDone }()

	var opts []ktables.WatchOption
	if *coalesce {
		opts = append(opts, ktables.WatchCoalesce())
	}
	w := &watchPrinter{tf: &tf, mu: &mu, out: sio.stdout, errOut: sio.stderr, note: note, printSnapshot: *snapshot}
	for ev, err := range t.Watch(wctx, opts...) {
		if err != nil {
			if wctx.Err() != nil {
				return nil // interrupted, or --duration passed
			}
			return fmt.Errorf("watching topic %q: %w", tf.topic, err)
		}
		if err := w.event(ev); err != nil {
			return err
		}
	}
	return nil
}

// watchPrinter turns watch events into output lines.
type watchPrinter struct {
	tf            *tableFlags
	mu            *sync.Mutex
	out, errOut   io.Writer
	note          func(format string, args ...any)
	printSnapshot bool // the current snapshot's entries are printed
	synced        bool // the first snapshot ended
	keys          int  // entries of the current snapshot
}

func (w *watchPrinter) event(ev ktables.GroupedEvent[[]byte]) error {
	switch ev.Kind {
	case ktables.EventSnapshot:
		w.keys++
		if !w.printSnapshot {
			return nil
		}
	case ktables.EventSynced:
		if !w.synced {
			w.synced = true
			w.mu.Lock()
			fmt.Fprintf(w.errOut, "ktables: watching topic %q: caught up with %s; changes follow\n", w.tf.topic, plural(w.keys, "key"))
			w.mu.Unlock()
			if !w.printSnapshot {
				return nil
			}
		}
		w.printSnapshot = false // later snapshots are resyncs: see EventReset
	case ktables.EventReset:
		w.note("fell more than the table's watch buffer behind: a fresh snapshot follows ({\"op\":\"reset\"})")
		// Whoever reads the output must rebuild from the snapshot: print it
		// whatever --snapshot says.
		w.printSnapshot, w.keys = true, 0
	}
	c, err := w.tf.change(ev)
	if err != nil {
		w.note("skipped a change: %v", err)
		return nil
	}
	line, err := json.Marshal(c)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err = fmt.Fprintf(w.out, "%s\n", line)
	return err
}

// change renders one event for output, or says why it cannot.
func (tf *tableFlags) change(ev ktables.GroupedEvent[[]byte]) (change, error) {
	c := change{Op: ev.Kind.String()}
	switch ev.Kind {
	case ktables.EventSynced:
		c.Token = syncedToken(tf.topic, ev.Positions).String()
		return c, nil
	case ktables.EventReset:
		return c, nil
	}
	sk, ok := showKey(tf.keys, ev.Key)
	if !ok {
		return change{}, fmt.Errorf("key %q is not valid UTF-8 (use --keys base64)", ev.Key)
	}
	c.Key = &sk
	what := keyName(ev.Key)
	if tf.grouped {
		what = memberName(ev.Group, ev.Member)
		g, _ := showKey(tf.keys, ev.Group)
		m, _ := showKey(tf.keys, ev.Member)
		c.Group, c.Member = &g, &m
	}
	if ev.Kind == ktables.EventSet || ev.Kind == ktables.EventSnapshot {
		s, err := showValue(tf.values, what, ev.New)
		if err != nil {
			return change{}, err
		}
		c.Value = &s
	}
	if ev.HadOld {
		// An old value --values cannot show was skipped when it was new:
		// leave it out rather than the whole change.
		if s, err := showValue(tf.values, what, ev.Old); err == nil {
			c.Old = &s
		}
	}
	if !ev.Time.IsZero() {
		c.Time = ev.Time.UTC().Format(time.RFC3339Nano)
	}
	// Snapshot entries carry a position only from tables opened WithTTL.
	if ev.Kind != ktables.EventSnapshot || !ev.Time.IsZero() {
		p, o := ev.Position.Partition, ev.Position.Offset
		c.Partition, c.Offset = &p, &o
	}
	return c, nil
}

// syncedToken turns the positions of an EventSynced (per partition, the
// next offset to read) into the token of the last record applied in each,
// as --wait-for and WaitFor take it.
func syncedToken(topic string, next []ktables.Position) ktables.Token {
	last := make([]ktables.Position, 0, len(next))
	for _, p := range next {
		if p.Offset > 0 {
			last = append(last, ktables.Position{Partition: p.Partition, Offset: p.Offset - 1})
		}
	}
	tok, err := ktables.NewToken(topic, last...)
	if err != nil {
		return ktables.Token{} // unreachable: the topic and positions are valid
	}
	return tok
}

// healthInterval is how often watch checks that the brokers answer.
var healthInterval = time.Second

// health notices a watch that cannot read: a probe of the topic's end
// offsets that fails, or reader retries the table counts (Stats().Retries).
// It reports the change of state, not every tick: one line when reading
// stops working, a reminder every minute, one line when it works again.
type health struct {
	tr       transport.Transport
	topic    string
	retries  int64
	down     time.Time // zero while healthy
	reminded time.Time
}

func (h *health) check(ctx context.Context, retries int64) string {
	pctx, cancel := context.WithTimeout(ctx, 2*healthInterval)
	defer cancel()
	parts, err := h.tr.Partitions(pctx, h.topic)
	if err == nil {
		_, err = h.tr.EndOffsets(pctx, h.topic, parts)
	}
	newRetries := retries - h.retries
	h.retries = retries
	if ctx.Err() != nil {
		return ""
	}
	now := time.Now()
	switch {
	case err != nil || newRetries > 0:
		why := fmt.Sprintf("the table retried %s", plural(int(newRetries), "time"))
		if err != nil {
			why = "probe failed: " + errorLine(err)[len("ktables: "):]
		}
		if h.down.IsZero() {
			h.down, h.reminded = now, now
			return fmt.Sprintf("cannot read topic %q (%s); retrying until interrupted, changes resume when it can", h.topic, why)
		}
		if now.Sub(h.reminded) >= time.Minute {
			h.reminded = now
			return fmt.Sprintf("still cannot read topic %q after %s (%s); retrying", h.topic, now.Sub(h.down).Round(time.Second), why)
		}
	case !h.down.IsZero():
		d := now.Sub(h.down).Round(time.Second)
		h.down = time.Time{}
		return fmt.Sprintf("reading topic %q again after %s", h.topic, d)
	}
	return ""
}
