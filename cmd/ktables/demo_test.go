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
