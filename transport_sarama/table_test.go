package saramatransport

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/internal/brokertest"
	"github.com/ktables/ktables/transport"
)

// waitStatus polls tbl's status until want or the deadline.
func waitStatus[V any](t *testing.T, tbl *ktables.Table[V], want ktables.Status, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for tbl.Status() != want {
		if time.Now().After(deadline) {
			t.Fatalf("status %v after %v, want %v (err %v)", tbl.Status(), d, want, tbl.Err())
		}
		time.Sleep(5 * time.Millisecond) // polling a status, not synchronizing
	}
}

// TestTableSurvivesConnectionCuts: connections cut during catch-up and
// during live updates never fail the table or lose a record; it ends equal
// to a last-write-wins oracle, caught up (SPEC L2, R1).
func TestTableSurvivesConnectionCuts(t *testing.T) {
	c, seeds := brokertest.StartCluster(t)
	wtr := newT(t, seeds, nil)
	topic := newTopic(t, wtr, 3, nil)
	ctx := testCtx(t, 60*time.Second)
	w, err := ktables.OpenWriter(ctx, wtr, topic, ktables.String())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	oracle := map[string]string{}
	write := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			k := fmt.Sprintf("k%03d", i%97)
			if i%11 == 0 {
				if err := w.Delete(ctx, k); err != nil {
					t.Fatal(err)
				}
				delete(oracle, k)
				continue
			}
			v := fmt.Sprintf("v%d", i)
			if i%13 == 0 {
				v = "" // empty is data
			}
			if err := w.Set(ctx, k, v); err != nil {
				t.Fatal(err)
			}
			oracle[k] = v
		}
	}
	write(0, 600)

	// Catch-up with fetch and list-offsets connections cut.
	fetchDrops := brokertest.DropConnections(t, c, kmsg.Fetch, 4)
	rtr := newT(t, seeds, nil)
	tbl, err := ktables.Open(ctx, rtr, topic, ktables.String(), ktables.WithRetryBackoff(5*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	if tbl.Status() != ktables.StatusCaughtUp {
		t.Fatalf("status after Open: %v (err %v)", tbl.Status(), tbl.Err())
	}
	if !maps.Equal(tbl.Snapshot(), oracle) {
		t.Fatalf("after catch-up: %d entries, oracle %d", tbl.Len(), len(oracle))
	}
	t.Logf("catch-up: %d fetch connections cut", fetchDrops())

	// Live updates with connections cut again.
	liveDrops := brokertest.DropConnections(t, c, kmsg.Fetch, 4)
	write(600, 1200)
	if err := tbl.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(tbl.Snapshot(), oracle) {
		t.Fatalf("after live updates: %d entries, oracle %d", tbl.Len(), len(oracle))
	}
	if tbl.Status() != ktables.StatusCaughtUp {
		t.Fatalf("status %v (err %v)", tbl.Status(), tbl.Err())
	}
	if fetchDrops()+liveDrops() == 0 {
		t.Fatal("no connection was cut")
	}
	t.Logf("live: %d fetch connections cut", liveDrops())
}

// TestTableFailsOnAuthorization: an authorization error while reading
// fails the table, with the cause reachable (SPEC L2, X6).
func TestTableFailsOnAuthorization(t *testing.T) {
	c, seeds := brokertest.StartCluster(t)
	tr := newT(t, seeds, nil)
	topic := newTopic(t, tr, 1, nil)
	ctx := testCtx(t, 30*time.Second)
	tbl, err := ktables.Open(ctx, tr, topic, ktables.String())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	brokertest.FailNext(t, c, kmsg.Fetch, topic, -1, kerr.TopicAuthorizationFailed)
	waitStatus(t, tbl, ktables.StatusFailed, 10*time.Second)
	err = tbl.Err()
	if !errors.Is(err, transport.ErrAuthorization) {
		t.Fatalf("Err: %v", err)
	}
	isKError(t, err, sarama.ErrTopicAuthorizationFailed)
	if err := tbl.Barrier(ctx); !errors.Is(err, ktables.ErrTableFailed) {
		t.Fatalf("Barrier on a failed table: %v", err)
	}
}

// TestOpenWrongSASLPassword: Open with rejected credentials fails clearly
// and fast, well within its deadline.
func TestOpenWrongSASLPassword(t *testing.T) {
	_, seeds := brokertest.StartCluster(t, kfake.EnableSASL(), kfake.Superuser("PLAIN", "user", "pass"))
	cfg := NewConfig()
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	cfg.Net.SASL.User, cfg.Net.SASL.Password = "user", "wrong"
	tr := newT(t, seeds, cfg)
	ctx := testCtx(t, 10*time.Second)
	start := time.Now()
	_, err := ktables.Open(ctx, tr, brokertest.Topic(t), ktables.String())
	if !errors.Is(err, transport.ErrAuthentication) {
		t.Fatalf("Open with a wrong password: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("Open did not fail within its deadline: %v", err)
	}
	t.Logf("Open with a wrong password failed in %v: %v", time.Since(start), err)
}

// TestOpenUnreachableHonoursContext: with no broker listening, Open
// returns when its context ends, leaking nothing.
func TestOpenUnreachableHonoursContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	tr := newT(t, []string{addr}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err = ktables.Open(ctx, tr, "unreachable", ktables.String())
	d := time.Since(start)
	if err == nil || d > 3*time.Second {
		t.Fatalf("Open on an unreachable broker: %v after %v", err, d)
	}
	t.Logf("Open on an unreachable broker with a 1s deadline returned after %v: %v", d, err)
}
