package main

import (
	"context"
	"fmt"
)

func runGet(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "get", "KEY | --grouped GROUP MEMBER",
		"Open a table (never creating its topic), wait until it has caught up (and applied --wait-for)\n"+
			"and print one value.\n"+
			"Exit status 1, with a message on stderr, when the key is absent or --values cannot show its value.")
	var tf tableFlags
	tf.register(fs, sio, useRead)
	tf.registerWaitFor(fs)
	tf.registerTTL(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := tf.validate(); err != nil {
		return err
	}
	if tf.grouped && len(pos) != 2 {
		return usagef("get --grouped takes GROUP MEMBER, got %s", plural(len(pos), "argument"))
	}
	if !tf.grouped && len(pos) != 1 {
		return usagef("get takes one KEY, got %s", plural(len(pos), "argument"))
	}
	key, err := tf.keyArgs(pos)
	if err != nil {
		return err
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

	var (
		v    []byte
		ok   bool
		what string
	)
	if tf.grouped {
		v, ok = t.grouped.Get(key[0], key[1])
		what = memberName(key[0], key[1])
	} else {
		v, ok = t.flat.Get(key[0])
		what = keyName(key[0])
	}
	if !ok {
		return fmt.Errorf("%s not found in topic %q", what, tf.topic)
	}
	s, err := showValue(tf.values, what, v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(sio.stdout, s)
	return err
}
