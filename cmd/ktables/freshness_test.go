package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/kafkatest"
)

var tokenLine = regexp.MustCompile(`^kt1:[^:]+:\d+=\d+\n$`)

// Issue 18 item 5 (SPEC T1, T2): set --print-token prints the write's token;
// get and dump --wait-for wait for it in another process (here: another run),
// with every client.
func TestPrintTokenWaitFor(t *testing.T) {
	seeds := kafkatest.Start(t)
	forEachClient(t, func(t *testing.T, client string) {
		c := conn(seeds, client)
		topic, tf := topicFlag(t)
		ok(t, args([]string{"ensure-topic", "--partitions", "3"}, c, tf)...)
		r := ok(t, args([]string{"set", "--print-token"}, c, tf, []string{"flag", "on"})...)
		if !tokenLine.MatchString(r.stdout) || !strings.HasPrefix(r.stdout, "kt1:"+topic+":") {
			t.Fatalf("set --print-token printed %q", r.stdout)
		}
		tok := strings.TrimSpace(r.stdout)
		if r := ok(t, args([]string{"get", "--wait-for", tok}, c, tf, []string{"flag"})...); r.stdout != "on\n" {
			t.Fatalf("get --wait-for: %q", r.stdout)
		}
		// A grouped write's token, then a delete's, merged by repeating the flag.
		g := ok(t, args([]string{"set", "--grouped", "--print-token"}, c, tf, []string{"svc", "m1", "v"})...)
		d := ok(t, args([]string{"delete", "--print-token"}, c, tf, []string{"flag"})...)
		if !tokenLine.MatchString(d.stdout) {
			t.Fatalf("delete --print-token printed %q", d.stdout)
		}
		r = ok(t, args([]string{"dump", "--grouped", "--format", "text", "--wait-for", strings.TrimSpace(g.stdout), "--wait-for", strings.TrimSpace(d.stdout)}, c, tf)...)
		if r.stdout != "svc\tm1\tv\n" {
			t.Fatalf("dump --wait-for after the delete: %q", r.stdout)
		}
		// Without --print-token, set prints nothing.
		if r := ok(t, args([]string{"set"}, c, tf, []string{"k", "v"})...); r.stdout != "" {
			t.Fatalf("set printed %q", r.stdout)
		}
	})
}

// Issue 18 "bad input": a malformed token is a usage error naming
// ErrInvalidToken; another topic's token a usage error naming both topics;
// a token past the topic's end (forged) an error at once (WaitForChecked),
// not a wait until --timeout.
func TestWaitForBadTokens(t *testing.T) {
	seeds := kafkatest.Start(t)
	c := conn(seeds, "franz")
	topic, tf := topicFlag(t)
	ok(t, args([]string{"set"}, c, tf, []string{"k", "v"})...)
	invalid := strings.TrimPrefix(ktables.ErrInvalidToken.Error(), "ktables: ")
	for _, bad := range []string{"nope", "kt1:" + topic + ":0=x", "kt1:" + topic + ":1=2:0=1", "kt1:"} {
		expectFail(t, 2, invalid, args([]string{"get", "--wait-for", bad}, c, tf, []string{"k"})...)
		expectFail(t, 2, "--wait-for", args([]string{"dump", "--wait-for", bad}, c, tf)...)
	}
	expectFail(t, 2, `the token is for topic "other", not "`+topic+`"`,
		args([]string{"get", "--wait-for", "kt1:other:0=1"}, c, tf, []string{"k"})...)
	expectFail(t, 2, "token is for another topic",
		args([]string{"dump", "--wait-for", "kt1:" + topic + ":0=0", "--wait-for", "kt1:other:0=1"}, c, tf)...)
	r := expectFail(t, 1, "the topic has no such write", args([]string{"get", "--wait-for", "kt1:" + topic + ":0=999999"}, c, tf, []string{"k"})...)
	if !strings.Contains(r.stderr, strings.TrimPrefix(ktables.ErrTokenAhead.Error(), "ktables: ")) || r.took > 20e9 {
		t.Fatalf("forged token: %+v", r)
	}
	expectFail(t, 1, "no partition 7", args([]string{"get", "--wait-for", "kt1:" + topic + ":7=0"}, c, tf, []string{"k"})...)
}

// Issue 18 item 5 (SPEC T3): status reports, per partition, the applied
// position, the high watermark and the lag, and the table's position token,
// last fetch and head confirmation, in JSON and for humans.
func TestStatus(t *testing.T) {
	seeds := kafkatest.Start(t)
	forEachClient(t, func(t *testing.T, client string) {
		c := conn(seeds, client)
		topic, tf := topicFlag(t)
		ok(t, args([]string{"ensure-topic", "--partitions", "3"}, c, tf)...)
		var tokens []string
		for _, k := range []string{"a", "b", "c", "d"} {
			tokens = append(tokens, strings.TrimSpace(ok(t, args([]string{"set", "--print-token"}, c, tf, []string{k, "v"})...).stdout))
		}
		ok(t, args([]string{"delete"}, c, tf, []string{"d"})...)

		r := ok(t, args([]string{"status", "--format", "json"}, c, tf)...)
		var rep statusReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("status --format json: %v\n%s", err, r.stdout)
		}
		if rep.Topic != topic || rep.Status != "caught up" || rep.Keys != 3 || rep.Lag != 0 || rep.RecordsApplied != 4 || rep.Tombstones != 1 ||
			rep.LastFetch == nil || rep.HeadConfirmed == nil || len(rep.Partitions) != 3 {
			t.Fatalf("status: %s", r.stdout)
		}
		var total int64
		for _, p := range rep.Partitions {
			if p.HighWatermark == nil || *p.HighWatermark != p.Applied || p.Lag != 0 {
				t.Fatalf("partition %d: %s", p.Partition, r.stdout)
			}
			total += p.Applied
		}
		if total != 5 {
			t.Fatalf("applied positions sum to %d, want 5 records: %s", total, r.stdout)
		}
		// The position covers every write: it is what --wait-for takes.
		pos, err := ktables.ParseToken(rep.Position)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range tokens {
			tok, _ := ktables.ParseToken(s)
			if !pos.Covers(tok) {
				t.Fatalf("position %s does not cover write %s", pos, tok)
			}
		}
		ok(t, args([]string{"get", "--wait-for", rep.Position}, c, tf, []string{"a"})...)

		r = ok(t, args([]string{"status"}, c, tf)...)
		for _, want := range []string{"topic " + topic + ": caught up, 3 keys, lag 0 records", "position:       " + rep.Position,
			"last fetch:     20", "head confirmed: 20", "4 applied, 1 tombstones", "partition       applied  high watermark"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("status lacks %q:\n%s", want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "staleness") || rep.Stale != nil {
			t.Errorf("staleness shown without --max-staleness:\n%s", r.stdout)
		}

		// --max-staleness (SPEC T4): how long since the head was confirmed.
		r = ok(t, args([]string{"status", "--format", "json", "--max-staleness", "1m"}, c, tf)...)
		rep = statusReport{}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatal(err)
		}
		age, err := time.ParseDuration(rep.Staleness)
		if rep.MaxStaleness != "1m0s" || rep.Stale == nil || *rep.Stale || err != nil || age < 0 || age > time.Minute {
			t.Fatalf("status --max-staleness 1m: %s", r.stdout)
		}
		r = ok(t, args([]string{"status", "--max-staleness", "1m"}, c, tf)...)
		if !strings.Contains(r.stdout, ", max 1m0s: fresh\n") {
			t.Errorf("status --max-staleness lacks the staleness line:\n%s", r.stdout)
		}
	})
}

func TestStatusUsage(t *testing.T) {
	expectFail(t, 2, `unknown --format "yaml"`, "status", "--brokers", "127.0.0.1:1", "--topic", "t", "--format", "yaml")
	expectFail(t, 2, "status takes no arguments, got 1 argument", "status", "--brokers", "127.0.0.1:1", "--topic", "t", "x")
	expectFail(t, 2, "missing --topic", "status", "--brokers", "127.0.0.1:1")
	expectFail(t, 2, "unknown flag --values", "status", "--brokers", "127.0.0.1:1", "--topic", "t", "--values", "json")
	expectFail(t, 2, "--max-staleness must not be negative", "status", "--brokers", "127.0.0.1:1", "--topic", "t", "--max-staleness", "-1s")
	expectFail(t, 2, "--ttl must be at least 100ms", "watch", "--brokers", "127.0.0.1:1", "--topic", "t", "--ttl", "10ms")
}
