package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

// change is one line of watch output.
type change struct {
	Op     string      `json:"op"`
	Key    string      `json:"key"`
	Group  *string     `json:"group,omitempty"`
	Member *string     `json:"member,omitempty"`
	Value  *shownValue `json:"value,omitempty"`
}

func runWatch(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "watch", "",
		"Open a table (never creating its topic), wait until it has caught up, then print every change\n"+
			"as one JSON line: {\"op\":\"set\",\"key\":...,\"value\":...} or {\"op\":\"delete\",\"key\":...};\n"+
			"grouped tables add \"group\" and \"member\". Runs until interrupted or --duration passes.\n"+
			"When the brokers cannot be reached it keeps retrying and says so on stderr, and again once\n"+
			"they answer. A change --keys or --values cannot show is skipped with a line on stderr.")
	var tf tableFlags
	tf.register(fs, sio, useRead)
	fs.Lookup("timeout").Usage = "bound on connecting and catching up; the watch itself runs until --duration or Ctrl-C"
	duration := fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
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

	var (
		ready atomic.Bool // set at catch-up: only later changes are printed
		mu    sync.Mutex
	)
	note := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(sio.stderr, "ktables: watch: "+format+"\n", args...)
	}
	emit := func(op, key string, v []byte) {
		if !ready.Load() {
			return
		}
		c, err := tf.change(op, key, v)
		if err != nil {
			note("skipped a change: %v", err)
			return
		}
		line, _ := json.Marshal(c)
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(sio.stdout, "%s\n", line)
	}

	openCtx, cancel := context.WithTimeout(ctx, tf.timeout)
	defer cancel()
	tr, err := tf.connect(openCtx)
	if err != nil {
		return tf.explain(openCtx, "connecting", err)
	}
	defer tr.Close()
	t, err := openTable(openCtx, sio, &tf, tr, hooks{
		onSet:    func(k string, v []byte) { emit("set", k, v) },
		onDelete: func(k string, _ []byte) { emit("delete", k, nil) },
		// Set on the reader goroutine between the last replayed record and
		// the first live one, so no change is missed or printed twice.
		onCaughtUp: func() { ready.Store(true) },
	})
	if err != nil {
		return err
	}
	defer t.Close()
	mu.Lock()
	fmt.Fprintf(sio.stderr, "ktables: watching topic %q: caught up with %s; changes follow\n", tf.topic, plural(t.Len(), "key"))
	mu.Unlock()

	var deadline <-chan time.Time
	if *duration > 0 {
		timer := time.NewTimer(*duration)
		defer timer.Stop()
		deadline = timer.C
	}
	h := &health{tr: tr, topic: tf.topic, retries: t.Stats().Retries}
	// A table that fails (a deleted topic, lost authorization) ends the
	// watch; an unreachable broker does not: the table retries, and the
	// watch says so.
	tick := time.NewTicker(healthInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-deadline:
			return nil
		case <-tick.C:
			if err := tableErr(t); err != nil {
				return fmt.Errorf("watching topic %q: %w", tf.topic, err)
			}
			if msg := h.check(ctx, t.Stats().Retries); msg != "" {
				note("%s", msg)
			}
		}
	}
}

// change renders one change for output, or says why it cannot.
func (tf *tableFlags) change(op, key string, v []byte) (change, error) {
	sk, ok := showKey(tf.keys, key)
	if !ok {
		return change{}, fmt.Errorf("key %q is not valid UTF-8 (use --keys base64)", key)
	}
	c := change{Op: op, Key: sk}
	what := keyName(key)
	if tf.grouped {
		g, m, _ := ktables.DefaultKeyCodec.Decode(key)
		what = memberName(g, m)
		g, _ = showKey(tf.keys, g)
		m, _ = showKey(tf.keys, m)
		c.Group, c.Member = &g, &m
	}
	if v != nil {
		s, err := showValue(tf.values, what, v)
		if err != nil {
			return change{}, err
		}
		c.Value = &s
	}
	return c, nil
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

func tableErr(t *table) error {
	if t.grouped != nil {
		return t.grouped.Err()
	}
	return t.flat.Err()
}
