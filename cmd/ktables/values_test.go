package main

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/ktables/ktables/kafkatest"
)

// Issue 20 item 1: writes check what the README promises; one record the
// output cannot show never fails a dump.
func TestWritesValidateAndDumpsSkip(t *testing.T) {
	seeds := kafkatest.Start(t)
	c := conn(seeds, "franz")
	_, tf := topicFlag(t)
	badKey, badValue := "k\xff", "\xff\xfe"
	expectFail(t, 2, "KEY is not valid UTF-8: give it in base64 with --keys base64", args([]string{"set"}, c, tf, []string{badKey, "v"})...)
	expectFail(t, 2, "VALUE is not valid UTF-8: give it in base64 with --values base64", args([]string{"set"}, c, tf, []string{"k", badValue})...)
	expectFail(t, 2, "KEY is not valid UTF-8", args([]string{"delete"}, c, tf, []string{badKey})...)
	expectFail(t, 2, "GROUP is not valid UTF-8", args([]string{"set", "--grouped"}, c, tf, []string{badKey, "m", "v"})...)

	ok(t, args([]string{"set", "--keys", "base64"}, c, tf, []string{base64.StdEncoding.EncodeToString([]byte(badKey)), "v"})...)
	ok(t, args([]string{"set"}, c, tf, []string{"good", "1"})...)
	r := ok(t, args([]string{"dump"}, c, tf)...)
	if r.stdout != "{\n  \"good\": \"1\"\n}\n" || !strings.Contains(r.stderr, `skipped 1 key that is not valid UTF-8 (use --keys base64; first: "k\xff")`) {
		t.Fatalf("dump: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	r = ok(t, args([]string{"dump", "--keys", "base64", "--format", "text"}, c, tf)...)
	if want := "Z29vZA==\t1\na/8=\tv\n"; r.stdout != want || r.stderr != "" {
		t.Fatalf("dump --keys base64: stdout %q (want %q), stderr %q", r.stdout, want, r.stderr)
	}
	r = ok(t, args([]string{"get", "--keys", "base64"}, c, tf, []string{"a/8="})...)
	if r.stdout != "v\n" {
		t.Fatalf("get --keys base64 = %q", r.stdout)
	}
}

// Issue 20 item 2: --values json embeds values as JSON and fails clearly on
// one that is not.
func TestValuesJSON(t *testing.T) {
	seeds := kafkatest.Start(t)
	c := conn(seeds, "franz")
	_, tf := topicFlag(t)
	ok(t, args([]string{"set", "--values", "json"}, c, tf, []string{"search", `{"on":true}`})...)
	ok(t, args([]string{"set"}, c, tf, []string{"n", "42"})...)
	r := ok(t, args([]string{"dump", "--values", "json"}, c, tf)...)
	var got map[string]map[string]bool
	if err := json.Unmarshal([]byte(strings.Replace(r.stdout, `"n": 42`, `"n": {}`, 1)), &got); err != nil || !got["search"]["on"] {
		t.Fatalf("dump --values json = %q (%v)", r.stdout, err)
	}
	if r = ok(t, args([]string{"dump", "--values", "json", "--format", "text"}, c, tf)...); r.stdout != "n\t42\nsearch\t{\"on\":true}\n" {
		t.Fatalf("dump --values json --format text = %q", r.stdout)
	}
	expectFail(t, 2, "VALUE is not JSON (--values json)", args([]string{"set", "--values", "json"}, c, tf, []string{"x", "{nope"})...)
	ok(t, args([]string{"set"}, c, tf, []string{"x", "plain text"})...)
	r = expectFail(t, 1, `the value of key "x" is not JSON (use --values utf8 or base64)`, args([]string{"dump", "--values", "json"}, c, tf)...)
	if r.stdout != "" {
		t.Fatalf("a failed dump printed %q", r.stdout)
	}
}

// Issue 20 item 3: help texts, plurals, brokers without a port, version.
func TestUsageTexts(t *testing.T) {
	r := cli(t, "dump", "--brokers", "127.0.0.1", "--topic", "t")
	checkFail(t, r, 2, `--brokers: "127.0.0.1" is not host:port`)
	if !strings.HasSuffix(r.stderr, "run 'ktables dump --help'\n") {
		t.Fatalf("no help pointer: %q", r.stderr)
	}
	expectFail(t, 2, "got 1 argument", "dump", "--brokers", "x:1", "--topic", "t", "extra")
	expectFail(t, 2, "got 3 arguments", "get", "--brokers", "x:1", "--topic", "t", "a", "b", "c")
	expectFail(t, 2, "--timeout", "dump", "--timeout", "soon")

	help := ok(t, "set", "--help").stdout
	own, shared, found := strings.Cut(help, "Connection, TLS and SASL flags:")
	if !found || !strings.Contains(own, "\n  --topic string") || !strings.Contains(own, "how VALUE is given") ||
		strings.Contains(own, "--brokers") || !strings.Contains(shared, "--brokers string") || !strings.Contains(shared, "--sasl-user") {
		t.Fatalf("set --help:\n%s", help)
	}
	if regexp.MustCompile(`(?m)^  -[a-z]`).MatchString(help) {
		t.Fatalf("one-dash flags in help:\n%s", help)
	}
	if h := ok(t, "watch", "--help").stdout; !strings.Contains(h, "the watch itself runs until --duration or Ctrl-C") {
		t.Fatalf("watch --help lacks the --timeout text:\n%s", h)
	}
	for _, a := range [][]string{{"version"}, {"--version"}} {
		r := ok(t, a...)
		if !regexp.MustCompile(`^ktables \S+.* \(go1\.\d+.*, \w+/\w+\)\n$`).MatchString(r.stdout) {
			t.Fatalf("%v = %q", a, r.stdout)
		}
	}
}

// Issue 20 item 9: a missing topic is said once.
func TestMissingTopicOnce(t *testing.T) {
	seeds := kafkatest.Start(t)
	forEachClient(t, func(t *testing.T, client string) {
		c := conn(seeds, client)
		topic, tf := topicFlag(t)
		for _, a := range [][]string{{"dump"}, {"get", "k"}, {"watch"}, {"doctor"}} {
			r := expectFail(t, 1, `topic "`+topic+`" does not exist on `, args(a, c, tf)...)
			if strings.Count(r.stderr, topic) != 1 || strings.Contains(r.stderr, "UNKNOWN_TOPIC") || strings.Contains(r.stderr, "open \"") || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("%s: %q", a[0], r.stderr)
			}
		}
	})
}

// Issue 20 item 6: a grouped dump of foreign keys says how many it skipped.
func TestDumpGroupedForeign(t *testing.T) {
	seeds := kafkatest.Start(t)
	c := conn(seeds, "franz")
	_, tf := topicFlag(t)
	ok(t, args([]string{"set"}, c, tf, []string{"plain-a", "1"})...)
	ok(t, args([]string{"set"}, c, tf, []string{"plain-b", "2"})...)
	r := ok(t, args([]string{"dump", "--grouped"}, c, tf)...)
	if r.stdout != "{}\n" || !strings.Contains(r.stderr, "skipped 2 records with foreign keys, not (group, member) pairs") {
		t.Fatalf("dump --grouped of foreign keys: stdout %q, stderr %q", r.stdout, r.stderr)
	}
}
