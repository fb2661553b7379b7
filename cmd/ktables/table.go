package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

// clientID is what the command calls itself to brokers.
const clientID = "ktables-cli"

// tableFlags are the flags of the commands that read or write one table.
type tableFlags struct {
	connFlags
	topic   string
	grouped bool
	keys    string
	values  string
	ttl     time.Duration // registerTTL; 0: off
	stale   time.Duration // status --max-staleness; 0: off
	waitFor tokenFlag     // registerWaitFor
}

// flagUse is what a command does with keys and values: it decides which
// of --keys and --values it takes and how they read.
type flagUse int

const (
	useRead   flagUse = iota // dump, get, watch, doctor: --keys, --values (utf8|base64|json)
	useWrite                 // set: --keys, --values for the VALUE argument
	useDelete                // delete: --keys only
	useStatus                // status: neither
)

func (t *tableFlags) register(fs *flags, sio *stdio, use flagUse) {
	t.connFlags.register(fs.FlagSet, sio)
	fs.StringVar(&t.topic, "topic", "", "the table's topic (required)")
	fs.BoolVar(&t.grouped, "grouped", false, "the topic holds a grouped table: keys are (group, member) pairs")
	switch use {
	case useRead:
		fs.StringVar(&t.keys, "keys", encUTF8, "how keys are shown (and KEY is given): utf8, or base64 for any bytes\n"+
			"(with utf8, a key that is not valid UTF-8 is skipped and counted on stderr)")
		fs.StringVar(&t.values, "values", encUTF8, "how values are shown: utf8 (a value that is not valid UTF-8 is skipped and\n"+
			"counted on stderr), base64, or json (each value embedded as JSON; one that is not is an error)")
	case useWrite:
		fs.StringVar(&t.keys, "keys", encUTF8, "how KEY (or GROUP and MEMBER) is given: utf8 (must be valid UTF-8) or base64 (decoded)")
		fs.StringVar(&t.values, "values", encUTF8, "how VALUE is given: utf8 (must be valid UTF-8), base64 (decoded before writing)\n"+
			"or json (must be valid JSON; written as given)")
	case useDelete:
		fs.StringVar(&t.keys, "keys", encUTF8, "how KEY (or GROUP and MEMBER) is given: utf8 (must be valid UTF-8) or base64 (decoded)")
	case useStatus:
	}
}

// registerTTL adds --ttl: the table hides keys whose last record is older
// (WithTTL), as readers of a lease registry do.
func (t *tableFlags) registerTTL(fs *flags) {
	fs.DurationVar(&t.ttl, "ttl", 0, "hide keys (members) whose last record is older than this, as readers of leases\n"+
		"written by GroupedWriter.Announce do (0: off; else at least "+ktables.MinTTL.String()+")")
}

func (t *tableFlags) validate() error {
	if err := t.connFlags.validate(true); err != nil {
		return err
	}
	if t.topic == "" {
		return usagef("missing --topic")
	}
	if err := ktables.ValidateTopicName(t.topic); err != nil {
		return usagef("--topic: %v", err)
	}
	if t.ttl != 0 && t.ttl < ktables.MinTTL {
		return usagef("--ttl must be at least %s, got %s", ktables.MinTTL, t.ttl)
	}
	if tok := t.waitFor.tok; !tok.IsZero() && tok.Topic() != t.topic {
		return usagef("--wait-for: the token is for topic %q, not %q (%v)", tok.Topic(), t.topic, ktables.ErrTokenTopic)
	}
	switch t.keys {
	case "", encUTF8, encBase64:
	default:
		return usagef("unknown --keys %q (want utf8|base64)", t.keys)
	}
	switch t.values {
	case "", encUTF8, encBase64, encJSON:
	default:
		return usagef("unknown --values %q (want utf8|base64|json)", t.values)
	}
	return nil
}

// keyArgs decodes the KEY, or GROUP and MEMBER, arguments per --keys.
func (t *tableFlags) keyArgs(args []string) ([]string, error) {
	names := []string{"KEY"}
	if t.grouped {
		names = []string{"GROUP", "MEMBER"}
	}
	out := make([]string, len(args))
	for i, a := range args {
		b, err := decodeArg(names[i], t.keys, "--keys", a)
		if err != nil {
			return nil, err
		}
		// The grouped key codec reads UTF-8 names only (SPEC G2): a group
		// or member given in base64 must still decode to text.
		if t.grouped && !utf8.Valid(b) {
			return nil, usagef("%s decodes to bytes that are not valid UTF-8: group and member names are text", names[i])
		}
		out[i] = string(b)
	}
	return out, nil
}

func keyName(key string) string { return fmt.Sprintf("key %q", key) }

func memberName(group, member string) string {
	return fmt.Sprintf("member %q of group %q", member, group)
}

// table is a flat or grouped table of raw values, opened by openTable.
type table struct {
	flat    *ktables.Table[[]byte]
	grouped *ktables.GroupedTable[[]byte]
}

func (t *table) Close() error {
	if t.grouped != nil {
		return t.grouped.Close()
	}
	return t.flat.Close()
}

func (t *table) Stats() ktables.Stats {
	if t.grouped != nil {
		return t.grouped.Stats()
	}
	return t.flat.Stats()
}

func (t *table) Len() int {
	if t.grouped != nil {
		return t.grouped.TotalMembers()
	}
	return t.flat.Len()
}

func (t *table) Health() ktables.Health {
	if t.grouped != nil {
		return t.grouped.Health()
	}
	return t.flat.Health()
}

func (t *table) Lag() []ktables.PartitionLag {
	if t.grouped != nil {
		return t.grouped.Lag()
	}
	return t.flat.Lag()
}

func (t *table) WaitForChecked(ctx context.Context, tok ktables.Token) error {
	if t.grouped != nil {
		return t.grouped.WaitForChecked(ctx, tok)
	}
	return t.flat.WaitForChecked(ctx, tok)
}

// Watch is the table's watch as grouped events; a flat table's have no
// group or member.
func (t *table) Watch(ctx context.Context, opts ...ktables.WatchOption) iter.Seq2[ktables.GroupedEvent[[]byte], error] {
	if t.grouped != nil {
		return t.grouped.Watch(ctx, opts...)
	}
	return func(yield func(ktables.GroupedEvent[[]byte], error) bool) {
		for ev, err := range t.flat.Watch(ctx, opts...) {
			if !yield(ktables.GroupedEvent[[]byte]{Event: ev}, err) {
				return
			}
		}
	}
}

func (t *table) WaitCaughtUp(ctx context.Context) error {
	if t.grouped != nil {
		return t.grouped.WaitCaughtUp(ctx)
	}
	return t.flat.WaitCaughtUp(ctx)
}

// hooks are called on the table's reader goroutine for every set and every
// delete of a present key, with the record key (composite for grouped
// tables).
type hooks struct {
	onSet      func(key string, v []byte)
	onDelete   func(key string, old []byte)
	onCaughtUp func()
}

// openTable opens the table named by the flags without creating its topic,
// waits until it has caught up, and shows progress on stderr when stderr is
// a terminal.
func openTable(ctx context.Context, sio *stdio, tf *tableFlags, tr transport.Transport, h hooks) (*table, error) {
	var seen atomic.Int64
	opts := []ktables.Option{
		ktables.WithoutEnsureTopic(),
		ktables.WithCatchUpTimeout(tf.timeout),
	}
	onSet := func(k string, v []byte) {
		seen.Add(1)
		if h.onSet != nil {
			h.onSet(k, v)
		}
	}
	onDelete := func(k string, v []byte) {
		seen.Add(1)
		if h.onDelete != nil {
			h.onDelete(k, v)
		}
	}
	if tf.grouped {
		// Grouped hooks get (group, member); h takes the record key.
		key := func(g, m string) string { k, _ := ktables.DefaultKeyCodec.Encode(g, m); return k }
		opts = append(opts,
			ktables.OnMemberSet(func(g, m string, v []byte) { onSet(key(g, m), v) }),
			ktables.OnMemberDelete(func(g, m string, v []byte) { onDelete(key(g, m), v) }))
	} else {
		opts = append(opts, ktables.OnSet(onSet), ktables.OnDelete(onDelete))
	}
	if h.onCaughtUp != nil {
		opts = append(opts, ktables.OnCaughtUp(h.onCaughtUp))
	}
	if tf.ttl > 0 {
		opts = append(opts, ktables.WithTTL(tf.ttl))
	}
	if tf.stale > 0 {
		opts = append(opts, ktables.WithMaxStaleness(tf.stale))
	}
	var stop func()
	if isTerminal(sio.stderr) {
		total, err := recordsToRead(ctx, tr, tf.topic)
		if err != nil {
			return nil, tf.explainTopic(ctx, fmt.Sprintf("reading the offsets of topic %q", tf.topic), tf.topic, err)
		}
		stop = showProgress(sio.stderr, tf.topic, total, seen.Load)
	}
	t, err := openRaw(ctx, tr, tf, opts)
	if err == nil {
		err = t.WaitCaughtUp(ctx)
		if err != nil {
			t.Close()
		}
	}
	if stop != nil {
		stop()
	}
	if err != nil {
		return nil, tf.explainTopic(ctx, fmt.Sprintf("opening topic %q", tf.topic), tf.topic, err)
	}
	return t, nil
}

func openRaw(ctx context.Context, tr transport.Transport, tf *tableFlags, opts []ktables.Option) (*table, error) {
	if tf.grouped {
		g, err := ktables.OpenGrouped(ctx, tr, tf.topic, ktables.Bytes(), opts...)
		if err != nil {
			return nil, err
		}
		return &table{grouped: g}, nil
	}
	// Any bytes make a key: --keys decides how the command shows them
	// (utf8 skips and counts what is not text, base64 shows it).
	f, err := ktables.Open(ctx, tr, tf.topic, ktables.Bytes(), append(opts, ktables.WithKeyFormat(ktables.RawKeys()))...)
	if err != nil {
		return nil, err
	}
	return &table{flat: f}, nil
}

// missingTopicError says once that a topic does not exist. The chain it
// wraps (the core's "open", the transport's operation, Kafka's error code)
// stays available to errors.Is but is not repeated in the message.
type missingTopicError struct {
	topic, brokers string
	err            error
}

func (e *missingTopicError) Error() string {
	return fmt.Sprintf("topic %q does not exist on %s (create it with 'ktables ensure-topic' or 'ktables set')", e.topic, e.brokers)
}

func (e *missingTopicError) Unwrap() error { return e.err }

// explainTopic is explain for a step on one topic: a missing topic is
// reported as such, in one clause, whatever the step was.
func (c *connFlags) explainTopic(ctx context.Context, stage, topic string, err error) error {
	if errors.Is(err, transport.ErrUnknownTopic) && ctx.Err() == nil {
		return &missingTopicError{topic: topic, brokers: c.brokers, err: err}
	}
	return c.explain(ctx, stage, err)
}

// recordsToRead sums end minus start offsets over the topic's partitions:
// an upper bound of the records catch-up reads.
func recordsToRead(ctx context.Context, tr transport.Transport, topic string) (int64, error) {
	parts, err := tr.Partitions(ctx, topic)
	if err != nil {
		return 0, err
	}
	start, err := tr.StartOffsets(ctx, topic, parts)
	if err != nil {
		return 0, err
	}
	end, err := tr.EndOffsets(ctx, topic, parts)
	if err != nil {
		return 0, err
	}
	var total int64
	for p, e := range end {
		total += max(0, e-start[p])
	}
	return total, nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressDelay is how long catch-up runs before progress is shown.
var progressDelay = 500 * time.Millisecond

// showProgress prints a progress line on w every 250 ms once catch-up has
// taken progressDelay; the returned func stops it and ends the line.
func showProgress(w io.Writer, topic string, total int64, seen func() int64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		printed := false
		line := func() {
			n := seen()
			el := time.Since(start).Seconds()
			pct := 100.0
			if total > 0 {
				pct = min(100, 100*float64(n)/float64(total))
			}
			fmt.Fprintf(w, "\r\033[Kcatching up %s: %d records, %.0f records/s, %.0f%% of end offsets", topic, n, float64(n)/max(el, 0.001), pct)
			printed = true
		}
		for {
			select {
			case <-done:
				if printed {
					fmt.Fprintf(w, "\r\033[Kcaught up %s: %d records in %s\n", topic, seen(), time.Since(start).Round(time.Millisecond))
				}
				return
			case <-tick.C:
				if time.Since(start) >= progressDelay {
					line()
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
