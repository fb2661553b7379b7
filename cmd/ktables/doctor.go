package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ktables/ktables/transport"
)

func runDoctor(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "doctor", "",
		"Read a table's topic once, up to its end offsets, and report what would make a table of it wrong:\n"+
			"keys on a partition other than murmur2(key) mod partitions and keys in more than one partition\n"+
			"(naming the likely cause), cleanup.policy, retention and compaction settings, tombstone, empty,\n"+
			"keyless and undecodable counts, foreign keys (--grouped), partition count and skew, and open\n"+
			"transactions. Exit status 1 when a check finds a problem; warnings alone exit 0.")
	var tf tableFlags
	tf.register(fs, sio, useRead)
	format := fs.String("format", "human", "output format: human or json")
	offline := fs.Duration("max-offline", time.Hour, "how long a reader may be disconnected: delete.retention.ms must be longer,\n"+
		"or a reader that comes back can miss tombstones and keep deleted keys")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("doctor takes no arguments, got %s", plural(len(pos), "argument"))
	}
	if err := tf.validate(); err != nil {
		return err
	}
	if *format != "human" && *format != "json" {
		return usagef("unknown --format %q (want human|json)", *format)
	}
	if *offline <= 0 {
		return usagef("--max-offline must be positive, got %s", *offline)
	}
	ctx, cancel := context.WithTimeout(ctx, tf.timeout)
	defer cancel()
	tr, err := tf.connect(ctx)
	if err != nil {
		return tf.explain(ctx, "connecting", err)
	}
	defer tr.Close()

	sc, err := scanTopic(ctx, tr, tf.topic, tf.grouped)
	if err != nil {
		return tf.explainTopic(ctx, fmt.Sprintf("reading topic %q", tf.topic), tf.topic, err)
	}
	rep := &report{Topic: tf.topic, Brokers: tf.brokers, Client: tf.client, Grouped: tf.grouped,
		Partitions: len(sc.parts), Records: sc.records, LiveKeys: sc.liveKeys(), Counts: sc.counts(tf.values)}
	checkRouting(rep, sc, tf.keys)
	checkConfig(ctx, rep, tr, tf.topic, *offline)
	checkCounts(rep, sc, &tf)
	checkPartitions(rep, sc)
	checkTransactions(rep, tr)
	rep.tally()
	if *format == "json" {
		err = writeJSON(sio.stdout, rep)
	} else {
		err = rep.writeHuman(sio.stdout)
	}
	if err != nil {
		return err
	}
	if rep.Problems > 0 {
		return fmt.Errorf("doctor: topic %q: %s, %s", tf.topic, plural(rep.Problems, "problem"), plural(rep.Warnings, "warning"))
	}
	return nil
}

// partState is what the scan keeps of one key on one partition.
type partState struct {
	partition int32
	records   int64
	last      time.Time // timestamp of the latest record
	tombstone bool      // the latest record is a tombstone
}

// keyState is every partition a key was found on, in order of discovery.
type keyState struct{ parts []partState }

func (k *keyState) on(p int32) *partState {
	for i := range k.parts {
		if k.parts[i].partition == p {
			return &k.parts[i]
		}
	}
	k.parts = append(k.parts, partState{partition: p})
	return &k.parts[len(k.parts)-1]
}

// scan is the topic read once.
type scan struct {
	parts                      []int32
	start, end                 map[int32]int64
	keys                       map[string]*keyState
	records                    int64
	perPartition               map[int32]int64 // records
	tombstones, empty, keyless int64
	values                     [][]byte // non-empty data values, to decode per --values
	foreign                    map[string]bool
	grouped                    bool
}

// scanTopic reads topic from its start offsets to the end offsets listed
// when it starts, with one transport Fetcher.
func scanTopic(ctx context.Context, tr transport.Transport, topic string, grouped bool) (*scan, error) {
	parts, err := tr.Partitions(ctx, topic)
	if err != nil {
		return nil, err
	}
	start, err := tr.StartOffsets(ctx, topic, parts)
	if err != nil {
		return nil, err
	}
	end, err := tr.EndOffsets(ctx, topic, parts)
	if err != nil {
		return nil, err
	}
	sc := &scan{parts: parts, start: start, end: end, keys: map[string]*keyState{},
		perPartition: map[int32]int64{}, foreign: map[string]bool{}, grouped: grouped}
	pos := maps.Clone(start)
	remaining := func() bool {
		for _, p := range parts {
			if pos[p] < end[p] {
				return true
			}
		}
		return false
	}
	if !remaining() {
		return sc, nil
	}
	f, err := tr.NewFetcher(ctx, topic, start, transport.FetchOptions{MaxWait: 250 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	defer f.Close()
	backoff := 50 * time.Millisecond
	for remaining() {
		b, err := f.Poll(ctx)
		if err != nil {
			if ctx.Err() != nil || !transport.IsRetriable(err) {
				return nil, fmt.Errorf("fetching: %w", err)
			}
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("fetching: %w (last error: %w)", ctx.Err(), err)
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Second)
			if err := f.Assign(pos); err != nil {
				return nil, fmt.Errorf("resuming the fetch: %w", err)
			}
			continue
		}
		for _, rec := range b.Records {
			if rec.Offset < end[rec.Partition] {
				sc.add(rec)
			}
		}
		for p, n := range b.Next {
			pos[p] = max(pos[p], n)
		}
	}
	return sc, nil
}

func (sc *scan) add(rec transport.Record) {
	sc.records++
	sc.perPartition[rec.Partition]++
	if rec.Key == nil {
		sc.keyless++
		return
	}
	k := string(rec.Key)
	if sc.grouped {
		if !isGroupedKey(k) {
			sc.foreign[k] = true
		}
	}
	ks := sc.keys[k]
	if ks == nil {
		ks = &keyState{}
		sc.keys[k] = ks
	}
	ps := ks.on(rec.Partition)
	ps.records++
	ps.last = rec.Timestamp
	ps.tombstone = rec.Value == nil
	switch {
	case rec.Value == nil:
		sc.tombstones++
	case len(rec.Value) == 0:
		sc.empty++
	default:
		sc.values = append(sc.values, rec.Value)
	}
}

// liveKeys counts keys whose latest record on some partition is data.
func (sc *scan) liveKeys() int {
	n := 0
	for _, ks := range sc.keys {
		if slices.ContainsFunc(ks.parts, func(p partState) bool { return !p.tombstone }) {
			n++
		}
	}
	return n
}
