package main

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ktables/ktables/kafkatest"
)

func TestSetDeleteDumpGet(t *testing.T) {
	seeds := kafkatest.Start(t)
	forEachClient(t, func(t *testing.T, client string) {
		c := conn(seeds, client)
		_, tf := topicFlag(t)
		ok(t, args([]string{"set"}, c, tf, []string{"a", "1"})...)
		ok(t, args([]string{"set"}, c, tf, []string{"b", "two"})...)
		ok(t, args([]string{"set"}, c, tf, []string{"c", ""})...) // empty is data
		ok(t, args([]string{"set"}, c, tf, []string{"a", `{"on":true}`})...)
		ok(t, args([]string{"delete"}, c, tf, []string{"b"})...) // a tombstone

		r := ok(t, args([]string{"dump"}, c, tf)...)
		var got map[string]string
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("dump output is not a JSON object: %v\n%s", err, r.stdout)
		}
		want := map[string]string{"a": `{"on":true}`, "c": ""}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("dump = %v, want %v", got, want)
		}

		r = ok(t, args([]string{"dump", "--format", "text"}, c, tf)...)
		if r.stdout != "a\t{\"on\":true}\nc\t\n" {
			t.Fatalf("dump --format text = %q", r.stdout)
		}

		// Flags may follow the positional argument.
		r = ok(t, args([]string{"get", "a"}, c, tf)...)
		if r.stdout != "{\"on\":true}\n" {
			t.Fatalf("get a = %q", r.stdout)
		}
		expectFail(t, 1, `key "b" not found`, args([]string{"get"}, c, tf, []string{"b"})...)
	})
}

func TestGrouped(t *testing.T) {
	seeds := kafkatest.Start(t)
	forEachClient(t, func(t *testing.T, client string) {
		c := conn(seeds, client)
		g := []string{"--grouped"}
		_, tf := topicFlag(t)
		ok(t, args([]string{"set"}, g, c, tf, []string{"billing", "host-a", "10.0.0.1:80"})...)
		ok(t, args([]string{"set"}, g, c, tf, []string{"billing", "host-b", "10.0.0.2:80"})...)
		ok(t, args([]string{"set"}, g, c, tf, []string{"search", "host-a", "10.0.1.1:9200"})...)
		ok(t, args([]string{"delete"}, g, c, tf, []string{"billing", "host-b"})...)

		r := ok(t, args([]string{"dump"}, g, c, tf)...)
		var got map[string]map[string]string
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("dump --grouped: %v\n%s", err, r.stdout)
		}
		want := map[string]map[string]string{
			"billing": {"host-a": "10.0.0.1:80"},
			"search":  {"host-a": "10.0.1.1:9200"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("dump --grouped = %v, want %v", got, want)
		}
		r = ok(t, args([]string{"dump", "--format", "text"}, g, c, tf)...)
		if r.stdout != "billing\thost-a\t10.0.0.1:80\nsearch\thost-a\t10.0.1.1:9200\n" {
			t.Fatalf("dump --grouped --format text = %q", r.stdout)
		}
		// The flat view of the same topic shows the composite keys.
		r = ok(t, args([]string{"dump", "--format", "text"}, c, tf)...)
		if r.stdout != "6:searchhost-a\t10.0.1.1:9200\n7:billinghost-a\t10.0.0.1:80\n" {
			t.Fatalf("flat dump of a grouped topic = %q", r.stdout)
		}

		r = ok(t, args([]string{"get"}, g, c, tf, []string{"search", "host-a"})...)
		if r.stdout != "10.0.1.1:9200\n" {
			t.Fatalf("get --grouped = %q", r.stdout)
		}
		expectFail(t, 1, `member "host-b" of group "billing" not found`, args([]string{"get"}, g, c, tf, []string{"billing", "host-b"})...)
	})
}

func TestBinaryValues(t *testing.T) {
	seeds := kafkatest.Start(t)
	c := conn(seeds, "franz")
	_, tf := topicFlag(t)
	bin := []byte{0xff, 0x00, 0xfe}
	ok(t, args([]string{"set", "--values", "base64"}, c, tf, []string{"bin", base64.StdEncoding.EncodeToString(bin)})...)
	ok(t, args([]string{"set"}, c, tf, []string{"txt", "hé"})...)

	// One value the output cannot show never fails a dump (issue 20 item 1).
	r := ok(t, args([]string{"dump"}, c, tf)...)
	if r.stdout != "{\n  \"txt\": \"hé\"\n}\n" || !strings.Contains(r.stderr, `skipped 1 value that is not valid UTF-8 (use --values base64; first: key "bin")`) {
		t.Fatalf("dump with a binary value: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	expectFail(t, 1, `key "bin" is not valid UTF-8`, args([]string{"get"}, c, tf, []string{"bin"})...)

	r = ok(t, args([]string{"dump", "--values", "base64"}, c, tf)...)
	var got map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"bin": "/wD+", "txt": base64.StdEncoding.EncodeToString([]byte("hé"))}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("dump --values base64 = %v, want %v", got, want)
	}
	r = ok(t, args([]string{"get", "--values", "base64"}, c, tf, []string{"bin"})...)
	if r.stdout != "/wD+\n" {
		t.Fatalf("get --values base64 = %q", r.stdout)
	}
}

func TestDumpMissingTopicCreatesNothing(t *testing.T) {
	seeds := kafkatest.Start(t)
	forEachClient(t, func(t *testing.T, client string) {
		c := conn(seeds, client)
		topic, tf := topicFlag(t)
		expectFail(t, 1, "does not exist", args([]string{"dump"}, c, tf)...)
		expectFail(t, 1, "does not exist", args([]string{"get"}, c, tf, []string{"k"})...)
		expectFail(t, 1, "does not exist", args([]string{"watch"}, c, tf)...)
		// ensure-topic with --on-mismatch ignore would say "skipped" for an
		// existing topic: "created" proves dump created nothing.
		r := ok(t, args([]string{"ensure-topic"}, c, tf)...)
		if want := "topic " + topic + ": created"; !strings.HasPrefix(r.stdout, want) {
			t.Fatalf("ensure-topic after dump: %q, want %q", r.stdout, want)
		}
	})
}
func TestEnsureTopic(t *testing.T) {
	seeds := kafkatest.Start(t)
	forEachClient(t, func(t *testing.T, client string) {
		c := conn(seeds, client)
		topic, tf := topicFlag(t)
		outcome := func(extra ...string) string {
			t.Helper()
			r := ok(t, args([]string{"ensure-topic"}, c, tf, extra)...)
			return strings.TrimSpace(r.stdout)
		}
		if got, want := outcome("--partitions", "3"), "topic "+topic+": created (cleanup.policy=compact)"; got != want {
			t.Fatalf("first ensure: %q, want %q", got, want)
		}
		if got, want := outcome(), "topic "+topic+": verified (cleanup.policy=compact)"; got != want {
			t.Fatalf("second ensure: %q, want %q", got, want)
		}

		// A topic that deletes instead of compacting.
		del, dtf := topicFlag(t)
		if got := outcome2(t, args([]string{"ensure-topic"}, c, dtf, []string{"--config", "cleanup.policy=delete", "--config", "retention.ms=3600000"})); !strings.HasPrefix(got, "topic "+del+": created") {
			t.Fatalf("create with cleanup.policy=delete: %q", got)
		}
		if got, want := outcome2(t, args([]string{"ensure-topic"}, c, dtf)), "topic "+del+": mismatch (cleanup.policy=delete)"; got != want {
			t.Fatalf("warn: %q, want %q", got, want)
		}
		if got, want := outcome2(t, args([]string{"ensure-topic", "--on-mismatch", "ignore"}, c, dtf)), "topic "+del+": skipped"; got != want {
			t.Fatalf("ignore: %q, want %q", got, want)
		}
		r := expectFail(t, 1, `cleanup.policy="delete", expected "compact"`, args([]string{"ensure-topic", "--on-mismatch", "fail"}, c, dtf)...)
		if !strings.Contains(r.stdout, "mismatch") {
			t.Fatalf("fail mode printed %q", r.stdout)
		}
		if got, want := outcome2(t, args([]string{"ensure-topic", "--on-mismatch", "reconcile"}, c, dtf)), "topic "+del+": reconciled (cleanup.policy=compact, was delete)"; got != want {
			t.Fatalf("reconcile: %q, want %q", got, want)
		}
		if got, want := outcome2(t, args([]string{"ensure-topic"}, c, dtf)), "topic "+del+": verified (cleanup.policy=compact)"; got != want {
			t.Fatalf("after reconcile: %q, want %q", got, want)
		}
		expectFail(t, 2, "--on-mismatch", args([]string{"ensure-topic", "--on-mismatch", "shrug"}, c, dtf)...)
	})
}

func outcome2(t *testing.T, a []string) string {
	t.Helper()
	return strings.TrimSpace(ok(t, a...).stdout)
}
