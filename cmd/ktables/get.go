package main

import (
	"context"
	"fmt"
)

func runGet(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "get", "KEY | --grouped GROUP MEMBER",
		"Open a table (never creating its topic), wait until it has caught up and print one value.\n"+
			"Exit status 1, with a message on stderr, when the key is absent.")
	var tf tableFlags
	tf.register(fs, sio, true)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := tf.validate(); err != nil {
		return err
	}
	if tf.grouped && len(pos) != 2 {
		return usagef("get --grouped takes GROUP MEMBER, got %d arguments", len(pos))
	}
	if !tf.grouped && len(pos) != 1 {
		return usagef("get takes one KEY, got %d arguments", len(pos))
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

	var (
		v    []byte
		ok   bool
		what string
	)
	if tf.grouped {
		v, ok = t.grouped.Get(pos[0], pos[1])
		what = memberName(pos[0], pos[1])
	} else {
		v, ok = t.flat.Get(pos[0])
		what = keyName(pos[0])
	}
	if !ok {
		return fmt.Errorf("%s not found in topic %q", what, tf.topic)
	}
	s, err := tf.showValue(what, v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(sio.stdout, s)
	return err
}
