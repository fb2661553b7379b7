package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

func runDump(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "dump", "", "Open a table (never creating its topic), wait until it has caught up (and applied --wait-for),\n"+
		"print the whole map and exit.\n"+
		"JSON: one object key -> value with sorted keys; grouped: {group: {member: value}}.\n"+
		"Text: key<TAB>value lines sorted by key; grouped: group<TAB>member<TAB>value.\n"+
		"An entry --keys or --values cannot show is skipped, and counted in one line on stderr;\n"+
		"only --values json fails on a value that is not JSON.")
	var tf tableFlags
	tf.register(fs, sio, useRead)
	tf.registerWaitFor(fs)
	tf.registerTTL(fs)
	format := fs.String("format", "json", "output format: json or text")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("dump takes no arguments, got %s", plural(len(pos), "argument"))
	}
	if err := tf.validate(); err != nil {
		return err
	}
	if *format != "json" && *format != "text" {
		return usagef("unknown --format %q (want json|text)", *format)
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
	if err := tf.waitForToken(ctx, t); err != nil {
		return err
	}

	var skip skipped
	s := t.Stats()
	skip.addN("keyless record|keyless records", s.KeylessRecords)
	if t.grouped != nil {
		skip.addN("record whose key is not valid UTF-8|records whose keys are not valid UTF-8", s.KeyDecodeErrors)
		skip.addN("record with a foreign key, not a (group, member) pair, (dump without --grouped shows it)|records with foreign keys, not (group, member) pairs, (dump without --grouped shows them)", s.ForeignKeys)
		err = dumpGrouped(sio.stdout, &tf, t.grouped.Snapshot(), *format, &skip)
	} else {
		err = dumpFlat(sio.stdout, &tf, t.flat.Snapshot(), *format, &skip)
	}
	if line := skip.line(tf.topic); line != "" {
		fmt.Fprintln(sio.stderr, line)
	}
	return err
}

// noteValue counts a value showValue refused, or returns the error that
// ends the dump: --values json promises JSON, so a value that is not ends it.
func noteValue(skip *skipped, err error) error {
	var ve *valueError
	if errors.As(err, &ve) && ve.enc != encJSON {
		skip.add("value that is not valid UTF-8|values that are not valid UTF-8", "use --values base64; first: "+ve.what)
		return nil
	}
	return err
}

func dumpFlat(w io.Writer, tf *tableFlags, snap map[string][]byte, format string, skip *skipped) error {
	out := make(map[string]shownValue, len(snap))
	for _, k := range slices.Sorted(maps.Keys(snap)) {
		sk, ok := showKey(tf.keys, k)
		if !ok {
			skip.add("key that is not valid UTF-8|keys that are not valid UTF-8", fmt.Sprintf("use --keys base64; first: %q", k))
			continue
		}
		v, err := showValue(tf.values, keyName(k), snap[k])
		if err != nil {
			if err := noteValue(skip, err); err != nil {
				return err
			}
			continue
		}
		out[sk] = v
	}
	if format == "json" {
		return writeJSON(w, out)
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(out)) {
		fmt.Fprintf(&b, "%s\t%s\n", k, out[k])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func dumpGrouped(w io.Writer, tf *tableFlags, snap map[string]map[string][]byte, format string, skip *skipped) error {
	out := make(map[string]map[string]shownValue, len(snap))
	for _, g := range slices.Sorted(maps.Keys(snap)) {
		members := make(map[string]shownValue, len(snap[g]))
		for _, m := range slices.Sorted(maps.Keys(snap[g])) {
			v, err := showValue(tf.values, memberName(g, m), snap[g][m])
			if err != nil {
				if err := noteValue(skip, err); err != nil {
					return err
				}
				continue
			}
			sm, _ := showKey(tf.keys, m) // the grouped codec admits UTF-8 names only
			members[sm] = v
		}
		if len(members) > 0 {
			sg, _ := showKey(tf.keys, g)
			out[sg] = members
		}
	}
	if format == "json" {
		return writeJSON(w, out)
	}
	var b strings.Builder
	for _, g := range slices.Sorted(maps.Keys(out)) {
		for _, m := range slices.Sorted(maps.Keys(out[g])) {
			fmt.Fprintf(&b, "%s\t%s\t%s\n", g, m, out[g][m])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeJSON writes v indented, without HTML escaping; maps come out with
// sorted keys.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
