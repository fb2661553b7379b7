package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

func runDump(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "dump", "", "Open a table (never creating its topic), wait until it has caught up, print the whole map and exit.\n"+
		"JSON: one object key -> value with sorted keys; grouped: {group: {member: value}}.\n"+
		"Text: key<TAB>value lines sorted by key; grouped: group<TAB>member<TAB>value.")
	var tf tableFlags
	tf.register(fs, sio, true)
	format := fs.String("format", "json", "output format: json or text")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("dump takes no arguments, got %q", pos)
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

	if t.grouped != nil {
		return dumpGrouped(sio.stdout, &tf, t.grouped.Snapshot(), *format)
	}
	return dumpFlat(sio.stdout, &tf, t.flat.Snapshot(), *format)
}

func dumpFlat(w io.Writer, tf *tableFlags, snap map[string][]byte, format string) error {
	out := make(map[string]string, len(snap))
	for _, k := range slices.Sorted(maps.Keys(snap)) {
		if !utf8.ValidString(k) {
			return fmt.Errorf("key %q is not valid UTF-8", k)
		}
		v, err := tf.showValue(keyName(k), snap[k])
		if err != nil {
			return err
		}
		out[k] = v
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

func dumpGrouped(w io.Writer, tf *tableFlags, snap map[string]map[string][]byte, format string) error {
	out := make(map[string]map[string]string, len(snap))
	for _, g := range slices.Sorted(maps.Keys(snap)) {
		members := make(map[string]string, len(snap[g]))
		for _, m := range slices.Sorted(maps.Keys(snap[g])) {
			v, err := tf.showValue(memberName(g, m), snap[g][m])
			if err != nil {
				return err
			}
			members[m] = v
		}
		out[g] = members
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
