package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	o, err := ParseFlags([]string{"-quick", "-adapters", "franz", "-repeats", "2", "-out", "x.md"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Cfg.Quick || o.Cfg.Repeats != 2 || len(o.Cfg.Adapters) != 1 || o.Out != "x.md" {
		t.Fatalf("%+v", o)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-adapters", "franz,rdkafka"}, `unknown adapter "rdkafka"`},
		{[]string{"-repeats", "0"}, "-repeats must be positive"},
		{[]string{"-repeats", "-3"}, "-repeats must be positive"},
		{[]string{"-scenarios", "bogus"}, `unknown scenario "bogus"`},
		{[]string{"-out", ""}, "-out"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		_, err := ParseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}
