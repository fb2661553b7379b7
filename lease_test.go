package ktables_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// SPEC V5: a TTL that is not positive or under 100 ms is rejected.
func TestLeaseV5InvalidTTL(t *testing.T) {
	ctx := testCtx(t)
	c := newCluster(t)
	topic := topicName(t)
	for _, d := range []time.Duration{0, -time.Second, 99 * time.Millisecond} {
		if _, err := ktables.OpenGrouped(ctx, c.Transport(), topic, ktables.String(), ktables.WithTTL(d)); !errors.Is(err, ktables.ErrInvalidOption) {
			t.Errorf("WithTTL(%s): %v, want ErrInvalidOption", d, err)
		}
	}
	w := openGroupedWriter(t, ctx, c.Transport(), topic)
	for _, d := range []time.Duration{0, 50 * time.Millisecond} {
		if _, err := w.Announce(ctx, "g", "m", "v", d); !errors.Is(err, ktables.ErrInvalidOption) {
			t.Errorf("Announce ttl %s: %v, want ErrInvalidOption", d, err)
		}
	}
	if _, err := w.Announce(ctx, "g", "\xff", "v", time.Second); !errors.Is(err, ktables.ErrInvalidKey) {
		t.Errorf("Announce with an invalid member: %v, want ErrInvalidKey", err)
	}
	if n := c.Calls(memtransport.OpProduce); n != 0 {
		t.Errorf("%d records produced by invalid announcements", n)
	}
}

// registry opens, in the current synctest bubble, a grouped table with a
// TTL and a grouped writer over one topic.
func registry(t *testing.T, ttl time.Duration, opts ...ktables.Option) (*memtransport.Cluster, *ktables.GroupedTable[string], *ktables.GroupedWriter[string]) {
	c := memtransport.NewCluster(memtransport.WithDefaultFetchWait(100 * time.Millisecond))
	t.Cleanup(func() { c.Close() })
	topic := topicName(t)
	ctx := context.Background()
	g, err := ktables.OpenGrouped(ctx, c.Transport(), topic, ktables.String(), append(opts, ktables.WithTTL(ttl))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	w, err := ktables.OpenGroupedWriter(ctx, c.Transport(), topic, ktables.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return c, g, w
}

// SPEC V5: heartbeats keep a member visible well past the TTL; Revoke
// writes its tombstone, acknowledged, and no heartbeat follows it.
func TestLeaseV5HeartbeatsThenRevoke(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		c, g, w := registry(t, time.Second)
		l, err := w.Announce(ctx, "api", "host-a", "10.0.0.1:80", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		start := c.Calls(memtransport.OpProduce)
		for range 10 { // 5 s: five TTLs
			time.Sleep(500 * time.Millisecond)
			synctest.Wait()
			if !g.Has("api", "host-a") {
				t.Fatalf("V5: member hidden while its lease heartbeats (at %d produces)", c.Calls(memtransport.OpProduce))
			}
		}
		if beats := c.Calls(memtransport.OpProduce) - start; beats < 15 {
			t.Fatalf("V5: %d heartbeats in 5 s with a 1 s TTL, want at least 15 (every ttl/3)", beats)
		}
		if err := l.Err(); err != nil {
			t.Fatalf("Err after healthy heartbeats: %v", err)
		}
		if err := l.Revoke(ctx); err != nil {
			t.Fatal(err)
		}
		_ = g.Barrier(ctx)
		if g.Has("api", "host-a") {
			t.Fatal("V5: member present after Revoke's tombstone was acknowledged")
		}
		after := c.Calls(memtransport.OpProduce)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if n := c.Calls(memtransport.OpProduce); n != after {
			t.Fatalf("V5: %d records written after Revoke", n-after)
		}
		if err := l.Update(ctx, "x"); !errors.Is(err, ktables.ErrClosed) {
			t.Fatalf("Update after Revoke: %v, want ErrClosed", err)
		}
	})
}

// SPEC V5: a member whose heartbeats stop (a crash: no tombstone) is hidden
// within the TTL of its last record, watchers get EventExpired, and a fresh
// heartbeat shows it again.
func TestLeaseV5CrashExpiresAndReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		c, g, w := registry(t, time.Second)
		crashing := c.Transport() // the crashing instance's own connection
		cw, err := ktables.OpenGroupedWriter(ctx, crashing, g.Topic(), ktables.String())
		if err != nil {
			t.Fatal(err)
		}
		l, err := cw.Announce(ctx, "api", "host-b", "10.0.0.2:80", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = w.Set(ctx, "api", "static", "10.0.0.9:80") // no lease: expires too
		_ = g.Barrier(ctx)

		next := pullWatch(t, g.Watch(ctx))
		for {
			ev, err := next()
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind == ktables.EventSnapshot && ev.Time.IsZero() {
				t.Fatalf("V3: snapshot entry of a TTL table without its record time: %+v", ev)
			}
			if ev.Kind == ktables.EventSynced {
				break
			}
		}
		time.Sleep(2 * time.Second) // heartbeats flow
		synctest.Wait()
		crashedAt := time.Now()
		crashing.Close() // heartbeats now fail; no tombstone is written
		for {
			ev, err := next()
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind == ktables.EventSet {
				continue // heartbeats before the crash
			}
			if ev.Kind != ktables.EventExpired || ev.Member != "host-b" && ev.Member != "static" {
				t.Fatalf("want expiry, got %+v", ev)
			}
			if ev.Member == "host-b" {
				if took := time.Since(crashedAt); took > time.Second {
					t.Fatalf("V5: expired %s after the last heartbeat, TTL 1 s", took)
				}
				if ev.Old != "10.0.0.2:80" {
					t.Fatalf("expired event Old %q", ev.Old)
				}
				break
			}
		}
		synctest.Wait()
		if g.Has("api", "host-b") || g.TotalMembers() != 0 {
			t.Fatalf("V5: expired members still served: %v", g.Snapshot())
		}
		if n := g.Stats().Expired; n != 2 {
			t.Fatalf("V5: Stats.Expired %d after two members expired", n)
		}
		if n := g.Metrics().Stats.Expired; n != 2 {
			t.Fatalf("V5: Metrics().Stats.Expired %d after two members expired", n)
		}
		if err := l.Err(); err == nil {
			t.Fatal("V5: failing heartbeats not surfaced by Err")
		}

		_ = w.Set(ctx, "api", "host-b", "10.0.0.2:81") // back
		ev, err := next()
		if err != nil || ev.Kind != ktables.EventSet || ev.Member != "host-b" || ev.HadOld {
			t.Fatalf("V5: return of an expired member: %+v %v", ev, err)
		}
		if v, ok := g.Get("api", "host-b"); !ok || v != "10.0.0.2:81" {
			t.Fatalf("V5: returned member not served: %q %v", v, ok)
		}
		_ = l.Revoke(ctx) // the dead writer's tombstone fails; stop the lease
	})
}

// SPEC V5: records already older than the TTL when read, as during the
// replay at open, are hidden at once.
func TestLeaseV5OldRecordsHiddenAtOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := memtransport.NewCluster()
		defer c.Close()
		topic := topicName(t)
		createTopic(t, c, topic, 1)
		now := time.Now()
		for _, r := range []struct {
			key string
			age time.Duration
		}{{"1:aold", time.Hour}, {"1:anew", 100 * time.Millisecond}, {"1:bfuture", -time.Hour}} {
			if _, err := c.Append(topic, transport.Record{Key: []byte(r.key), Value: []byte("v"), Timestamp: now.Add(-r.age)}); err != nil {
				t.Fatal(err)
			}
		}
		g, err := ktables.OpenGrouped(context.Background(), c.Transport(), topic, ktables.String(), ktables.WithTTL(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		if g.Has("a", "old") || !g.Has("a", "new") || !g.Has("b", "future") {
			t.Fatalf("V5: at open: %v", g.Snapshot())
		}
		if n := g.Stats().Expired; n != 0 {
			t.Fatalf("Stats.Expired %d: a record that arrives expired for an absent key hides nothing", n)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if g.Has("a", "new") {
			t.Fatal("V5: member not expired a TTL after its record")
		}
		// A clock an hour ahead counts as now: it must not keep the member
		// for an hour.
		if g.Has("b", "future") {
			t.Fatal("V5: a future timestamp extended the lease")
		}
		if n := g.Stats().Expired; n != 2 {
			t.Fatalf("Stats.Expired %d after two members expired on the timer", n)
		}
	})
}

// SPEC V5: a failing heartbeat is retried before the next period and
// surfaced, then clears once a heartbeat succeeds; closing the writer
// revokes its leases with acknowledged tombstones.
func TestLeaseV5RetriesAndWriterCloseRevokes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		c, g, w := registry(t, 3*time.Second, ktables.WithRetryBackoff(10*time.Millisecond, 50*time.Millisecond))
		l, err := w.Announce(ctx, "api", "host-c", "v", 3*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.FailNext(memtransport.OpProduce, -1, transport.ErrAuthorization)
		time.Sleep(1100 * time.Millisecond) // past the first heartbeat
		synctest.Wait()
		if err := l.Err(); !errors.Is(err, transport.ErrAuthorization) {
			t.Fatalf("Err during failing heartbeats: %v", err)
		}
		c.ClearFaults()
		before := c.Calls(memtransport.OpProduce)
		time.Sleep(200 * time.Millisecond) // backoff, not a full period
		synctest.Wait()
		if c.Calls(memtransport.OpProduce) == before || l.Err() != nil {
			t.Fatalf("V5: heartbeat not retried within the backoff (err %v)", l.Err())
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		_ = g.Barrier(ctx)
		if g.Has("api", "host-c") {
			t.Fatal("V5: member still present after its writer closed")
		}
	})
}

// SPEC V5 (issue 19): heartbeat results are observable without wrapping
// the transport: the LeaseOnHeartbeat hook hears of every heartbeat, with
// the position it landed at or its error, and Stats counts them.
func TestLeaseV5HeartbeatHookAndStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		c, g, w := registry(t, 3*time.Second, ktables.WithRetryBackoff(10*time.Millisecond, 50*time.Millisecond))
		if _, err := w.Announce(ctx, "api", "host-d", "v", 3*time.Second, nil); !errors.Is(err, ktables.ErrInvalidOption) {
			t.Fatalf("nil LeaseOption: %v", err)
		}
		if _, err := w.Announce(ctx, "api", "host-d", "v", 3*time.Second, ktables.LeaseOnHeartbeat(nil)); !errors.Is(err, ktables.ErrInvalidOption) {
			t.Fatalf("LeaseOnHeartbeat(nil): %v", err)
		}
		var beats []error
		var last ktables.Position
		l, err := w.Announce(ctx, "api", "host-d", "v", 3*time.Second, ktables.LeaseOnHeartbeat(func(p ktables.Position, err error) {
			beats = append(beats, err) // the lease goroutine is the only caller
			if err == nil {
				last = p
			}
		}))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond) // one heartbeat, acknowledged
		synctest.Wait()
		if len(beats) != 1 || beats[0] != nil {
			t.Fatalf("after one period: hook saw %v", beats)
		}
		if s := l.Stats(); s.Heartbeats != 1 || s.Failures != 0 || s.Position != last || s.LastHeartbeat.IsZero() {
			t.Fatalf("Stats after one heartbeat: %+v (hook position %v)", s, last)
		}
		first := last
		c.FailNext(memtransport.OpProduce, 2, transport.ErrAuthorization)
		time.Sleep(1100 * time.Millisecond) // the next heartbeat fails twice, then lands
		synctest.Wait()
		s := l.Stats()
		if s.Failures != 2 || s.Heartbeats != 2 || s.LastFailure.IsZero() {
			t.Fatalf("Stats after two failed and one good heartbeat: %+v (hook: %v)", s, beats)
		}
		if len(beats) != 4 || !errors.Is(beats[1], transport.ErrAuthorization) || !errors.Is(beats[2], transport.ErrAuthorization) || beats[3] != nil {
			t.Fatalf("hook saw %v, want [nil auth auth nil]", beats)
		}
		if last.Partition != first.Partition || last.Offset <= first.Offset || s.Position != last {
			t.Fatalf("heartbeat positions %v then %v (Stats %v)", first, last, s.Position)
		}
		if !g.Has("api", "host-d") {
			t.Fatal("member hidden while heartbeats recover within the TTL")
		}
		if err := l.Revoke(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(beats); n != 4 {
			t.Fatalf("hook called %d times; Revoke is no heartbeat", n)
		}
	})
}

// A LeaseOnHeartbeat hook that panics is logged and recovered: the lease
// keeps heartbeating.
func TestLeaseV5HeartbeatHookPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		_, g, w := registry(t, time.Second)
		calls := 0
		l, err := w.Announce(ctx, "api", "host-e", "v", time.Second, ktables.LeaseOnHeartbeat(func(ktables.Position, error) {
			calls++
			panic("boom")
		}))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if calls < 3 || l.Stats().Heartbeats != int64(calls) || !g.Has("api", "host-e") {
			t.Fatalf("after a panicking hook: %d calls, %+v, present %v", calls, l.Stats(), g.Has("api", "host-e"))
		}
		_ = l.Revoke(ctx)
	})
}

// Stats.Expired counts a held member hidden by a record that arrives
// already older than the TTL, like one hidden on the timer.
func TestLeaseV5ExpiredCountsArrivingStaleRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		c, g, _ := registry(t, time.Second)
		for _, age := range []time.Duration{0, time.Hour} {
			if _, err := c.Append(g.Topic(), transport.Record{Key: []byte("1:aone"), Value: []byte("v"), Timestamp: time.Now().Add(-age)}); err != nil {
				t.Fatal(err)
			}
			if err := g.Barrier(ctx); err != nil {
				t.Fatal(err)
			}
			if age == 0 && !g.Has("a", "one") {
				t.Fatal("fresh member not served")
			}
		}
		if g.Has("a", "one") || g.Stats().Expired != 1 {
			t.Fatalf("after an expired record for a held member: present %v, Expired %d", g.Has("a", "one"), g.Stats().Expired)
		}
	})
}
