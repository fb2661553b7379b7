package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// statusReport is what "ktables status" prints: the table's health and its
// per-partition lag, as a table of the topic sees them right after
// catching up.
type statusReport struct {
	Topic          string     `json:"topic"`
	Status         string     `json:"status"`
	Keys           int        `json:"keys"`
	Lag            int64      `json:"lag"`
	Position       string     `json:"position"`
	LastFetch      *time.Time `json:"last_fetch"`
	HeadConfirmed  *time.Time `json:"head_confirmed"`
	RecordsApplied int64      `json:"records_applied"`
	Tombstones     int64      `json:"tombstones"`
	Skipped        int64      `json:"skipped"`
	CatchUp        string     `json:"catch_up"`
	// MaxStaleness, Staleness and Stale are set with --max-staleness:
	// Staleness is the time since the head was confirmed, when printed.
	MaxStaleness string            `json:"max_staleness,omitempty"`
	Staleness    string            `json:"staleness,omitempty"`
	Stale        *bool             `json:"stale,omitempty"`
	Partitions   []partitionStatus `json:"partitions"`
}

type partitionStatus struct {
	Partition int32 `json:"partition"`
	// Applied is the next offset the table reads: every record below it is
	// applied.
	Applied int64 `json:"applied"`
	// HighWatermark is null when no fetch reported one.
	HighWatermark *int64 `json:"high_watermark"`
	Lag           int64  `json:"lag"`
}

func runStatus(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "status", "",
		"Open a table (never creating its topic), wait until it has caught up, and print its freshness:\n"+
			"per partition the applied position (the next offset to read), the high watermark its fetches\n"+
			"reported and the lag between them; the table's status, position token (for --wait-for),\n"+
			"last fetch and last confirmation that it was at the head. With --max-staleness, also how\n"+
			"long ago that was and whether the table is stale (WithMaxStaleness). Human output by\n"+
			"default, --format json for scripts.")
	var tf tableFlags
	tf.register(fs, sio, useStatus)
	format := fs.String("format", "human", "output format: human or json")
	fs.DurationVar(&tf.stale, "max-staleness", 0, "open the table WithMaxStaleness(d) and show its staleness: the time since it\n"+
		"last confirmed it was at the head, and whether that is past d (0: off)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("status takes no arguments, got %s", plural(len(pos), "argument"))
	}
	if err := tf.validate(); err != nil {
		return err
	}
	if tf.stale < 0 {
		return usagef("--max-staleness must not be negative, got %s", tf.stale)
	}
	if *format != "human" && *format != "json" {
		return usagef("unknown --format %q (want human|json)", *format)
	}
	ctx, cancel := context.WithTimeout(ctx, tf.timeout)
	defer cancel()
	tr, err := tf.connect(ctx)
	if err != nil {
		return tf.explain(ctx, "connecting", err)
	}
	defer tr.Close()
	t, err := openTable(ctx, sio, &tf, tr, hooks{})
	if err != nil {
		return err
	}
	defer t.Close()
	rep := newStatusReport(t, time.Now())
	if *format == "json" {
		return writeJSON(sio.stdout, rep)
	}
	return rep.writeHuman(sio.stdout, time.Now())
}

func newStatusReport(t *table, now time.Time) statusReport {
	h := t.Health()
	s := t.Stats()
	rep := statusReport{
		Topic:          h.Topic,
		Status:         h.Status.String(),
		Keys:           t.Len(),
		Lag:            h.Lag,
		Position:       h.Position.String(),
		LastFetch:      timeOrNil(h.LastFetch),
		HeadConfirmed:  timeOrNil(h.HeadConfirmed),
		RecordsApplied: s.RecordsApplied,
		Tombstones:     s.TombstonesApplied,
		Skipped:        s.KeylessRecords + s.KeyDecodeErrors + s.ForeignKeys + s.ValueDecodeErrors,
		CatchUp:        s.CatchUpDuration.Round(time.Microsecond).String(),
		Partitions:     []partitionStatus{},
	}
	if h.MaxStaleness > 0 {
		rep.MaxStaleness = h.MaxStaleness.String()
		// The flag turns on only at the table's next staleness check; the
		// age decides here, so a report is never fresher than its numbers.
		age := now.Sub(h.HeadConfirmed)
		stale := h.Stale || h.HeadConfirmed.IsZero() || age > h.MaxStaleness
		rep.Stale = &stale
		if !h.HeadConfirmed.IsZero() {
			rep.Staleness = age.Round(time.Millisecond).String()
		}
	}
	for _, pl := range t.Lag() {
		ps := partitionStatus{Partition: pl.Partition, Applied: pl.Applied, Lag: pl.Lag}
		if pl.HighWatermark >= 0 {
			ps.HighWatermark = &pl.HighWatermark
		}
		rep.Partitions = append(rep.Partitions, ps)
	}
	return rep
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func (r statusReport) writeHuman(w io.Writer, now time.Time) error {
	var b strings.Builder
	ago := func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return fmt.Sprintf("%s (%s ago)", t.Format(time.RFC3339Nano), now.Sub(*t).Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "topic %s: %s, %s, lag %s\n", r.Topic, r.Status, plural(r.Keys, "key"), plural(int(r.Lag), "record"))
	position := r.Position
	if position == "" {
		position = "(nothing applied yet)"
	}
	fmt.Fprintf(&b, "position:       %s\n", position)
	fmt.Fprintf(&b, "last fetch:     %s\n", ago(r.LastFetch))
	fmt.Fprintf(&b, "head confirmed: %s\n", ago(r.HeadConfirmed))
	if r.Stale != nil {
		state := "fresh"
		if *r.Stale {
			state = "STALE"
		}
		staleness := r.Staleness
		if staleness == "" {
			staleness = "never confirmed"
		}
		fmt.Fprintf(&b, "staleness:      %s, max %s: %s\n", staleness, r.MaxStaleness, state)
	}
	fmt.Fprintf(&b, "records:        %d applied, %d tombstones, %d skipped; caught up in %s\n", r.RecordsApplied, r.Tombstones, r.Skipped, r.CatchUp)
	fmt.Fprintf(&b, "%-9s  %12s  %14s  %8s\n", "partition", "applied", "high watermark", "lag")
	for _, p := range r.Partitions {
		hwm := "unknown"
		if p.HighWatermark != nil {
			hwm = fmt.Sprint(*p.HighWatermark)
		}
		fmt.Fprintf(&b, "%-9d  %12d  %14s  %8d\n", p.Partition, p.Applied, hwm, p.Lag)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
