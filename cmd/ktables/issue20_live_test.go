package main

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
	franztransport "github.com/ktables/ktables/transport_franz"
)

var demoLine = regexp.MustCompile(`(?m)^\[\s*([0-9.]+)s\] (.*)$`)

// maxGap is the longest silence between two narrated lines.
func maxGap(t *testing.T, out string) time.Duration {
	t.Helper()
	var prev, gap float64
	for i, m := range demoLine.FindAllStringSubmatch(out, -1) {
		at, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			gap = max(gap, at-prev)
		}
		prev = at
	}
	return time.Duration(gap * float64(time.Second))
}

// Issue 20 item 7: every write is narrated, heartbeats included, with no
// silence longer than about a second; on --brokers the demo deletes the
// topic it created, with every client.
func TestDemoNarratesAndCleansUp(t *testing.T) {
	seeds := kafkatest.Start(t)
	forEachClient(t, func(t *testing.T, client string) {
		r := ok(t, "demo", "--duration", "3s", "--brokers", strings.Join(seeds, ","), "--client", client)
		if !strings.Contains(r.stdout, "heartbeat #2 (acknowledged in ") {
			t.Errorf("no heartbeat narrated:\n%s", r.stdout)
		}
		if g := maxGap(t, r.stdout); g > 1200*time.Millisecond {
			t.Errorf("silent for %s:\n%s", g, r.stdout)
		}
		m := regexp.MustCompile(`deleted topic (ktables-demo-[0-9a-f]+)`).FindStringSubmatch(r.stdout)
		if m == nil {
			t.Fatalf("the demo did not delete its topic:\n%s", r.stdout)
		}
		tr, err := franztransport.New(seeds)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		waitFor(t, 10*time.Second, "the topic to be gone", func() bool {
			_, err := tr.Partitions(context.Background(), m[1])
			return errors.Is(err, transport.ErrUnknownTopic)
		})
	})
}

// Issue 20 item 7: Ctrl-C ends the demo gracefully: its instances leave
// with tombstones, one line, exit 0.
func TestDemoInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"demo", "--duration", "1m"}, &out, &errb) }()
	waitFor(t, 30*time.Second, "a heartbeat", func() bool { return strings.Contains(out.String(), "heartbeat #1") })
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("interrupted demo: exit %d, stderr %q", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the demo did not end after Ctrl-C")
	}
	if n := strings.Count(out.String(), "interrupted"); n != 1 || !regexp.MustCompile(`interrupted: [23] instances left with acknowledged tombstones`).MatchString(out.String()) ||
		!strings.Contains(out.String(), "view: (empty)") || errb.String() != "" {
		t.Fatalf("interrupted demo printed:\n%s\nstderr: %s", out.String(), errb.String())
	}
}

// Issue 20 item 10: a watch whose broker goes away says so on stderr within
// a few seconds and keeps running.
func TestWatchBrokerGone(t *testing.T) {
	c, err := startBroker("127.0.0.1", 0, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	addr := c.ListenAddrs()[0]
	cf := []string{"--brokers", addr, "--timeout", "10s"}
	_, tf := topicFlag(t)
	ok(t, args([]string{"set"}, cf, tf, []string{"k", "v"})...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, args([]string{"watch"}, cf, tf), &out, &errb) }()
	waitFor(t, 20*time.Second, "catch-up", func() bool { return strings.Contains(errb.String(), "caught up with 1 key;") })
	c.Close()
	gone := time.Now()
	waitFor(t, 10*time.Second, "a line about the broker", func() bool {
		select {
		case code := <-done:
			t.Fatalf("watch exited %d when its broker went away: %s", code, errb.String())
		default:
		}
		return strings.Contains(errb.String(), "cannot read topic")
	})
	t.Logf("reported after %s: %s", time.Since(gone).Round(time.Millisecond), errb.String())
	if d := time.Since(gone); d > 6*time.Second {
		t.Errorf("reported after %s", d)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("watch exit %d", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("watch did not stop")
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
