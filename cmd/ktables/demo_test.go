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

// Issue 20 item 7: Ctrl-C ends the demo gracefully: its instances revoke
// their leases with tombstones, one line, exit 0.
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
	if n := strings.Count(out.String(), "interrupted"); n != 1 ||
		!regexp.MustCompile(`interrupted: 3 instances revoked their leases: tombstones acknowledged \(billing/host-a p\d@\d+, `).MatchString(out.String()) ||
		!strings.Contains(out.String(), "view: (empty)") || errb.String() != "" {
		t.Fatalf("interrupted demo printed:\n%s\nstderr: %s", out.String(), errb.String())
	}
}

// demoAt returns the time of the first narrated line containing s, and
// whether there is one.
func demoAt(t *testing.T, out, s string) (float64, bool) {
	t.Helper()
	for _, m := range demoLine.FindAllStringSubmatch(out, -1) {
		if strings.Contains(m[2], s) {
			at, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				t.Fatal(err)
			}
			return at, true
		}
	}
	return 0, false
}

// Issue 19 item 3 (SPEC V5): the crashed instance stops heartbeating,
// writes no tombstone, and disappears from both readers' views within the
// TTL + 1 s of its last acknowledged heartbeat — not before the TTL — and
// the narration says when.
func TestDemoLeaseExpiry(t *testing.T) {
	const ttl = 1.0
	r := ok(t, "demo", "--duration", "2s", "--ttl", "1s")
	out := r.stdout
	crash, ok1 := demoAt(t, out, "instance search/host-a CRASHES")
	restart, ok2 := demoAt(t, out, "instance search/host-a restarts")
	if !ok1 || !ok2 || restart < crash {
		t.Fatalf("no crash and restart:\n%s", out)
	}
	m := regexp.MustCompile(`last heartbeat acknowledged at \[\s*([0-9.]+)s\]`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the crash line gives no last heartbeat:\n%s", out)
	}
	last, _ := strconv.ParseFloat(m[1], 64)
	if beat, ok := demoAt(t, out, "instance search/host-a heartbeat #1 "); !ok || beat > crash {
		t.Fatalf("the instance crashed before its first heartbeat:\n%s", out)
	}
	for _, rd := range []string{"reader-1", "reader-2"} {
		at, ok := demoAt(t, out, rd+": search/host-a expired: its last record")
		if !ok {
			t.Fatalf("%s narrated no expiry:\n%s", rd, out)
		}
		if d := at - last; d < ttl-0.01 || d > ttl+1 {
			t.Errorf("%s expired search/host-a %.3fs after its last heartbeat, want within [TTL, TTL + 1s]", rd, d)
		}
	}
	// Between the crash and the restart the instance writes nothing: no
	// heartbeat, no tombstone.
	for _, mm := range demoLine.FindAllStringSubmatch(out, -1) {
		at, _ := strconv.ParseFloat(mm[1], 64)
		if at > crash && at < restart && strings.HasPrefix(mm[2], "instance search/host-a ") && !strings.Contains(mm[2], "restarts") {
			t.Errorf("the crashed instance wrote: %s", mm[0])
		}
	}
	if !regexp.MustCompile(`gone from every reader's view, counted from its last acknowledged heartbeat: reader-1 after [0-9.]+m?s, reader-2 after [0-9.]+m?s \(TTL 1s\)`).MatchString(out) {
		t.Errorf("no summary of the expiry timings:\n%s", out)
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}
