package main

import (
	"context"
	"fmt"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

func runSet(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "set", "KEY VALUE | --grouped GROUP MEMBER VALUE",
		"Write a value and wait for the broker's acknowledgement. The topic is created,\n"+
			"compacted, if it does not exist (use ensure-topic to choose partitions and configs).\n"+
			"KEY, GROUP, MEMBER and VALUE must be valid UTF-8, unless given in base64 with --keys base64\n"+
			"or --values base64; with --values json, VALUE must be JSON.")
	var tf tableFlags
	tf.register(fs, sio, useWrite)
	printToken := registerPrintToken(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := tf.validate(); err != nil {
		return err
	}
	if tf.grouped && len(pos) != 3 {
		return usagef("set --grouped takes GROUP MEMBER VALUE, got %s", plural(len(pos), "argument"))
	}
	if !tf.grouped && len(pos) != 2 {
		return usagef("set takes KEY VALUE, got %s", plural(len(pos), "argument"))
	}
	key, err := tf.keyArgs(pos[:len(pos)-1])
	if err != nil {
		return err
	}
	value, err := decodeArg("VALUE", tf.values, "--values", pos[len(pos)-1])
	if err != nil {
		return err
	}
	return write(ctx, sio, &tf, key, value, *printToken)
}

func runDelete(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "delete", "KEY | --grouped GROUP MEMBER",
		"Write a tombstone for a key and wait for the broker's acknowledgement.")
	var tf tableFlags
	tf.register(fs, sio, useDelete)
	printToken := registerPrintToken(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := tf.validate(); err != nil {
		return err
	}
	if tf.grouped && len(pos) != 2 {
		return usagef("delete --grouped takes GROUP MEMBER, got %s", plural(len(pos), "argument"))
	}
	if !tf.grouped && len(pos) != 1 {
		return usagef("delete takes one KEY, got %s", plural(len(pos), "argument"))
	}
	key, err := tf.keyArgs(pos)
	if err != nil {
		return err
	}
	return write(ctx, sio, &tf, key, nil, *printToken)
}

// registerPrintToken adds --print-token to set and delete.
func registerPrintToken(fs *flags) *bool {
	return fs.Bool("print-token", false, "print the write's token on stdout once acknowledged (kt1:TOPIC:PARTITION=OFFSET),\n"+
		"for 'ktables get/dump --wait-for' or a reader's WaitFor in another process")
}

// write sets key (one element, or group and member) to value, or deletes it
// when value is nil, waits for the acknowledgement, and prints the write's
// token when asked.
func write(ctx context.Context, sio *stdio, tf *tableFlags, key []string, value []byte, printToken bool) error {
	ctx, cancel := context.WithTimeout(ctx, tf.timeout)
	defer cancel()
	tr, err := tf.connect(ctx)
	if err != nil {
		return tf.explain(ctx, "connecting", err)
	}
	defer tr.Close()
	what := keyName(key[0])
	if len(key) == 2 {
		what = memberName(key[0], key[1])
	}
	stage := fmt.Sprintf("writing %s to topic %q", what, tf.topic)
	tok, err := writeKey(ctx, tr, tf.topic, key, value)
	if err != nil {
		return tf.explain(ctx, stage, err)
	}
	if printToken {
		_, err = fmt.Fprintln(sio.stdout, tok)
	}
	return err
}

// writeKey writes and returns where the write landed.
func writeKey(ctx context.Context, tr transport.Transport, topic string, key []string, value []byte) (ktables.Token, error) {
	if len(key) == 2 {
		w, err := ktables.OpenGroupedWriter(ctx, tr, topic, ktables.Bytes())
		if err != nil {
			return ktables.Token{}, err
		}
		defer w.Close()
		if value == nil {
			return w.DeleteWithToken(ctx, key[0], key[1])
		}
		return w.SetWithToken(ctx, key[0], key[1], value)
	}
	// keyArgs checked the key per --keys: with base64 it may be any bytes.
	w, err := ktables.OpenWriter(ctx, tr, topic, ktables.Bytes(), ktables.WithKeyFormat(ktables.RawKeys()))
	if err != nil {
		return ktables.Token{}, err
	}
	defer w.Close()
	if value == nil {
		return w.DeleteWithToken(ctx, key[0])
	}
	return w.SetWithToken(ctx, key[0], value)
}
