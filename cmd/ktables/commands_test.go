package main

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables/kafkatest"
	franztransport "github.com/ktables/ktables/transport_franz"
)

// The demo's story (issue 19 item 3) on its embedded broker, with every
// client.
func TestDemoEmbedded(t *testing.T) {
	if seeds := kafkatest.External(); len(seeds) > 0 {
		t.Skip("KTABLES_BROKERS is set: the demo would use it instead of its embedded broker")
	}
	forEachClient(t, func(t *testing.T, client string) {
		r := ok(t, "demo", "--duration", "1s", "--ttl", "600ms", "--client", client)
		for _, want := range []string{
			"embedded broker", "ensure-topic ktables-demo-", ": created (cleanup.policy=compact", "LogAppendTime",
			"reader-1 open: caught up", "reader-2 open: caught up", "watch (reader-1): synced: 0 members",
			"instance search/host-a announced 10.0.1.1:9200 with a lease", "watch (reader-1): set search/host-a = 10.0.1.1:9200 (a new member",
			"instance search/host-a CRASHES", "search/host-a is gone from every reader's view", "reader-1 shows search/host-a again",
			"watch (reader-1): delete billing/host-a (tombstone", "shutdown: every lease revoked", "view: (empty)", "stats (reader-1): ", "done",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("demo output lacks %q", want)
			}
		}
		if !regexp.MustCompile(`barrier \(reader-1\): [0-9.]+(µs|ms|s) — all 3`).MatchString(r.stdout) {
			t.Errorf("demo output has no barrier latency")
		}
		if r.took > 20*time.Second {
			t.Errorf("demo --duration 1s took %s", r.took)
		}
		if t.Failed() {
			t.Logf("output:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		}
	})
}

func TestDemoBrokers(t *testing.T) {
	seeds := kafkatest.Start(t)
	r := ok(t, "demo", "--duration", "500ms", "--ttl", "300ms", "--brokers", strings.Join(seeds, ","))
	if strings.Contains(r.stdout, "embedded broker") || !strings.Contains(r.stdout, "cluster: "+strings.Join(seeds, ",")) {
		t.Fatalf("demo --brokers did not use the brokers:\n%s", r.stdout)
	}
}

func TestDemoUsage(t *testing.T) {
	expectFail(t, 2, "--ttl must be at least 100ms, got 50ms", "demo", "--ttl", "50ms")
	expectFail(t, 2, "demo takes no arguments, got 1 argument", "demo", "x")
}

// startBrokerCmd runs "ktables broker" until the test ends and returns its
// address.
func startBrokerCmd(t *testing.T, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"broker", "--listen", "127.0.0.1:0"}, extra...), &out, &errb) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("broker exit %d: %s", code, errb.String())
			}
		case <-time.After(10 * time.Second):
			t.Errorf("broker did not stop when its context ended")
		}
	})
	re := regexp.MustCompile(`listening on (\S+)`)
	var addr string
	waitFor(t, 10*time.Second, "the broker's address", func() bool {
		m := re.FindStringSubmatch(out.String())
		if m != nil {
			addr = m[1]
		}
		return addr != ""
	})
	return addr
}

func TestBroker(t *testing.T) {
	addr := startBrokerCmd(t, "--partitions", "4")
	tr, err := franztransport.New([]string{addr})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// A producer that lets the broker auto-create the topic, as kcat does.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "auto", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatalf("produce to an auto-created topic: %v", err)
	}
	parts, err := tr.Partitions(ctx, "auto")
	if err != nil || len(parts) != 4 {
		t.Fatalf("Partitions = %v, %v; want 4 (--partitions)", parts, err)
	}
	// And the CLI against it.
	c := []string{"--brokers", addr}
	ok(t, args([]string{"set", "--topic", "flags"}, c, []string{"a", "1"})...)
	if r := ok(t, args([]string{"get", "--topic", "flags"}, c, []string{"a"})...); r.stdout != "1\n" {
		t.Fatalf("get from the broker: %q", r.stdout)
	}
}

func TestBrokerBadListen(t *testing.T) {
	expectFail(t, 2, "--listen", "broker", "--listen", "nowhere")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	expectFail(t, 1, "starting the broker on "+l.Addr().String(), "broker", "--listen", l.Addr().String())
}

func TestKcatRoundTrip(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not on PATH (Debian package kcat): skipping the kcat round trip")
	}
	addr := startBrokerCmd(t)
	c := []string{"--brokers", addr}
	ok(t, args([]string{"ensure-topic", "--topic", "flags", "--partitions", "3"}, c)...)

	// -K: splits key from value; -Z sends empty values as null: tombstones;
	// murmur2_random puts keys where Java clients and ktables do (issue 20
	// item 5), which the doctor checks below.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcat, "-b", addr, "-X", "partitioner=murmur2_random", "-P", "-t", "flags", "-K:", "-Z")
	cmd.Stdin = strings.NewReader("a:1\nb:2\nc:3\nb:\na:one\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
	r := ok(t, args([]string{"dump", "--topic", "flags", "--format", "text"}, c)...)
	if r.stdout != "a\tone\nc\t3\n" {
		t.Fatalf("dump of kcat's records = %q", r.stdout)
	}
	ok(t, args([]string{"set", "--topic", "flags"}, c, []string{"b", "two"})...)
	if r := cli(t, args([]string{"doctor", "--topic", "flags"}, c)...); r.code != 0 {
		t.Fatalf("doctor after kcat -X partitioner=murmur2_random: exit %d\n%s", r.code, r.stdout)
	}

	// And back: what the CLI writes, kcat reads (with murmur2 partitions).
	ok(t, args([]string{"set", "--topic", "flags"}, c, []string{"d", "4"})...)
	cmd = exec.CommandContext(ctx, kcat, "-b", addr, "-C", "-t", "flags", "-K:", "-e", "-q", "-Z")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat -C: %v", err)
	}
	if !strings.Contains(out.String(), "d:4") {
		t.Fatalf("kcat did not read the CLI's write: %q", out.String())
	}
}

// Issue 20 item 8: the broker prints its address and a kcat line.
func TestBrokerPrintsKcatLine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"broker", "--listen", "127.0.0.1:0"}, &out, &errb) }()
	waitFor(t, 10*time.Second, "the kcat line", func() bool { return strings.Contains(out.String(), "kcat -b ") })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("broker exit %d", code)
	}
	if !regexp.MustCompile(`listening on 127\.0\.0\.1:\d+`).MatchString(out.String()) ||
		!regexp.MustCompile(`kcat -b 127\.0\.0\.1:\d+ -X partitioner=murmur2_random`).MatchString(out.String()) {
		t.Fatalf("broker printed %q", out.String())
	}
}
