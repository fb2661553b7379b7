package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/kafkatest"
)

func TestWatch(t *testing.T) {
	seeds := kafkatest.Start(t)
	forEachClient(t, func(t *testing.T, client string) {
		for _, grouped := range []bool{false, true} {
			name := "flat"
			if grouped {
				name = "grouped"
			}
			t.Run(name, func(t *testing.T) {
				c := conn(seeds, client)
				var g []string
				key := []string{"k"}
				if grouped {
					g, key = []string{"--grouped"}, []string{"svc", "m1"}
				}
				_, tf := topicFlag(t)
				ok(t, args([]string{"set"}, g, c, tf, key, []string{"before"})...) // not printed: before catch-up

				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var out, errb syncBuffer
				done := make(chan int, 1)
				go func() { done <- run(ctx, args([]string{"watch"}, g, c, tf), &out, &errb) }()
				waitFor(t, 30*time.Second, "watch to catch up", func() bool {
					select {
					case code := <-done:
						t.Fatalf("watch exited %d early: %s", code, errb.String())
					default:
					}
					return strings.Contains(errb.String(), "caught up with 1 key;")
				})

				ok(t, args([]string{"set"}, g, c, tf, key, []string{"after"})...)
				ok(t, args([]string{"delete"}, g, c, tf, key)...)
				waitFor(t, 30*time.Second, "a set and a delete line", func() bool {
					return strings.Count(out.String(), "\n") >= 2
				})
				cancel()
				select {
				case code := <-done:
					if code != 0 {
						t.Fatalf("watch exit %d: %s", code, errb.String())
					}
				case <-time.After(10 * time.Second):
					t.Fatal("watch did not stop when its context ended")
				}

				// Only changes after catch-up, each with what it replaced and
				// where and when its record landed.
				lines := watchLines(t, out.String())
				if len(lines) != 2 {
					t.Fatalf("watch printed\n%s", out.String())
				}
				set, del := lines[0], lines[1]
				wantKey := "k"
				if grouped {
					wantKey = "3:svcm1"
					if set.Group == nil || *set.Group != "svc" || set.Member == nil || *set.Member != "m1" ||
						del.Group == nil || *del.Group != "svc" || del.Member == nil || *del.Member != "m1" {
						t.Fatalf("grouped watch without group and member:\n%s", out.String())
					}
				}
				if set.Op != "set" || *set.Key != wantKey || set.Value == nil || *set.Value != "after" || set.Old == nil || *set.Old != "before" ||
					del.Op != "delete" || *del.Key != wantKey || del.Value != nil || del.Old == nil || *del.Old != "after" {
					t.Fatalf("watch printed\n%s", out.String())
				}
				if set.Partition == nil || del.Partition == nil || *set.Partition != *del.Partition || *del.Offset != *set.Offset+1 ||
					set.Time == "" || del.Time == "" {
					t.Fatalf("watch lines lack positions or times:\n%s", out.String())
				}
			})
		}
	})
}

func TestWatchDuration(t *testing.T) {
	seeds := kafkatest.Start(t)
	c := conn(seeds, "franz")
	_, tf := topicFlag(t)
	ok(t, args([]string{"ensure-topic"}, c, tf)...)
	r := ok(t, args([]string{"watch", "--duration", "300ms"}, c, tf)...)
	if r.stdout != "" || r.took > 20*time.Second {
		t.Fatalf("watch --duration: stdout %q after %s", r.stdout, r.took)
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

// watchLine is one line of watch output, decoded.
type watchLine struct {
	Op        string  `json:"op"`
	Key       *string `json:"key"`
	Group     *string `json:"group"`
	Member    *string `json:"member"`
	Value     *string `json:"value"`
	Old       *string `json:"old"`
	Time      string  `json:"time"`
	Partition *int32  `json:"partition"`
	Offset    *int64  `json:"offset"`
	Token     string  `json:"token"`
}

func watchLines(t *testing.T, out string) []watchLine {
	t.Helper()
	var lines []watchLine
	for l := range strings.Lines(out) {
		var w watchLine
		if err := json.Unmarshal([]byte(l), &w); err != nil {
			t.Fatalf("watch line %q: %v", l, err)
		}
		lines = append(lines, w)
	}
	return lines
}

// Issue 19 item 1 (SPEC V1, V5): watch --snapshot prints the contents, then
// a synced line whose token --wait-for takes; with --ttl a member whose
// lease is not renewed is printed as expired; --coalesce is accepted.
func TestWatchSnapshotTTL(t *testing.T) {
	seeds := kafkatest.Start(t)
	c := conn(seeds, "franz")
	_, tf := topicFlag(t)
	// Taken before the write: the record's timestamp, which the TTL counts
	// from, is no earlier than this.
	start := time.Now()
	ok(t, args([]string{"set", "--grouped"}, c, tf, []string{"svc", "m1", "v1"})...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, args([]string{"watch", "--grouped", "--snapshot", "--coalesce", "--ttl", "1s"}, c, tf), &out, &errb)
	}()
	// m1 was written once and never again: it expires a second after its
	// record, as a crashed lease holder's member does.
	waitFor(t, 30*time.Second, "the expiry", func() bool { return strings.Contains(out.String(), `"op":"expired"`) })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("watch exit %d: %s", code, errb.String())
	}
	lines := watchLines(t, out.String())
	if len(lines) != 3 || lines[0].Op != "snapshot" || *lines[0].Member != "m1" || *lines[0].Value != "v1" || lines[0].Partition == nil ||
		lines[1].Op != "synced" || !strings.HasPrefix(lines[1].Token, "kt1:") ||
		lines[2].Op != "expired" || *lines[2].Group != "svc" || *lines[2].Old != "v1" || lines[2].Time != lines[0].Time {
		t.Fatalf("watch printed\n%s", out.String())
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("expired after %s, before the TTL", d)
	}
	ok(t, args([]string{"get", "--grouped", "--wait-for", lines[1].Token}, c, tf, []string{"svc", "m1"})...)
	if !strings.Contains(errb.String(), "caught up with 1 key;") {
		t.Fatalf("stderr: %s", errb.String())
	}
}

// SPEC V2: after an EventReset the output says so and prints the fresh
// snapshot, whatever --snapshot says, so whoever reads it can rebuild.
func TestWatchPrinterReset(t *testing.T) {
	var mu sync.Mutex
	var out, errb strings.Builder
	tf := &tableFlags{topic: "t", keys: encUTF8, values: encUTF8}
	var notes []string
	w := &watchPrinter{tf: tf, mu: &mu, out: &out, errOut: &errb, note: func(f string, a ...any) { notes = append(notes, fmt.Sprintf(f, a...)) }}
	ev := func(k ktables.EventKind, key string, v string, next ...ktables.Position) ktables.GroupedEvent[[]byte] {
		e := ktables.GroupedEvent[[]byte]{Event: ktables.Event[[]byte]{Kind: k, Key: key, New: []byte(v), Positions: next}}
		if k == ktables.EventSet {
			e.Position = ktables.Position{Partition: 1, Offset: 4}
		}
		return e
	}
	for _, e := range []ktables.GroupedEvent[[]byte]{
		ev(ktables.EventSnapshot, "a", "1"), ev(ktables.EventSynced, "", ""), ev(ktables.EventSet, "a", "2"),
		ev(ktables.EventReset, "", ""), ev(ktables.EventSnapshot, "a", "3"), ev(ktables.EventSnapshot, "b", "1"),
		ev(ktables.EventSynced, "", "", ktables.Position{Partition: 0, Offset: 0}, ktables.Position{Partition: 1, Offset: 7}),
		ev(ktables.EventSet, "b", "2"),
	} {
		if err := w.event(e); err != nil {
			t.Fatal(err)
		}
	}
	want := `{"op":"set","key":"a","value":"2","partition":1,"offset":4}
{"op":"reset"}
{"op":"snapshot","key":"a","value":"3"}
{"op":"snapshot","key":"b","value":"1"}
{"op":"synced","token":"kt1:t:1=6"}
{"op":"set","key":"b","value":"2","partition":1,"offset":4}
`
	if out.String() != want {
		t.Fatalf("printed\n%s\nwant\n%s", out.String(), want)
	}
	if errb.String() != "ktables: watching topic \"t\": caught up with 1 key; changes follow\n" || len(notes) != 1 || !strings.Contains(notes[0], "a fresh snapshot follows") {
		t.Fatalf("stderr %q, notes %q", errb.String(), notes)
	}
}
