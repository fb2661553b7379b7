package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ktables/ktables"
)

// change is one line of watch output.
type change struct {
	Op     string  `json:"op"`
	Key    string  `json:"key"`
	Group  *string `json:"group,omitempty"`
	Member *string `json:"member,omitempty"`
	Value  *string `json:"value,omitempty"`
}

func runWatch(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "watch", "",
		"Open a table (never creating its topic), wait until it has caught up, then print every change\n"+
			"as one JSON line: {\"op\":\"set\",\"key\":...,\"value\":...} or {\"op\":\"delete\",\"key\":...};\n"+
			"grouped tables add \"group\" and \"member\". Runs until interrupted or --duration passes.\n"+
			"--timeout bounds connecting and catching up only.")
	var tf tableFlags
	tf.register(fs, sio, true)
	duration := fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("watch takes no arguments, got %q", pos)
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
	emit := func(op, key string, v []byte) {
		if !ready.Load() {
			return
		}
		c := change{Op: op, Key: key}
		if tf.grouped {
			g, m, _ := ktables.DefaultKeyCodec.Decode(key)
			c.Group, c.Member = &g, &m
		}
		if v != nil {
			what := keyName(key)
			if tf.grouped {
				what = memberName(*c.Group, *c.Member)
			}
			s, err := tf.showValue(what, v)
			if err != nil {
				mu.Lock()
				fmt.Fprintln(sio.stderr, errorLine(fmt.Errorf("watch: skipped a change: %w", err)))
				mu.Unlock()
				return
			}
			c.Value = &s
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
	fmt.Fprintf(sio.stderr, "ktables: watching topic %q: caught up with %d keys; changes follow\n", tf.topic, t.Len())
	mu.Unlock()

	var deadline <-chan time.Time
	if *duration > 0 {
		timer := time.NewTimer(*duration)
		defer timer.Stop()
		deadline = timer.C
	}
	// A table that fails (a deleted topic, lost authorization) ends the watch.
	tick := time.NewTicker(200 * time.Millisecond)
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
		}
	}
}

func tableErr(t *table) error {
	if t.grouped != nil {
		return t.grouped.Err()
	}
	return t.flat.Err()
}
