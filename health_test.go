package ktables_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

type probeBody struct {
	Status string `json:"status"`
	Tables []struct {
		Topic         string    `json:"topic"`
		Status        string    `json:"status"`
		Ready         bool      `json:"ready"`
		Live          bool      `json:"live"`
		NotReady      []string  `json:"not_ready"`
		NotLive       []string  `json:"not_live"`
		Lag           int64     `json:"lag"`
		Stale         bool      `json:"stale"`
		MaxStaleness  string    `json:"max_staleness"`
		LastFetch     time.Time `json:"last_fetch"`
		HeadConfirmed time.Time `json:"head_confirmed"`
		Position      string    `json:"position"`
	} `json:"tables"`
}

func probe(t *testing.T, h http.Handler) (int, probeBody) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	var b probeBody
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("probe body %q: %v", rec.Body.String(), err)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	return rec.Code, b
}

// Readiness follows staleness and failure; liveness follows the reader.
func TestHealthHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := memtransport.NewCluster()
		defer c.Close()
		ctx := context.Background()
		tbl, err := ktables.Open(ctx, c.Transport(), "flags", ktables.Bytes(),
			ktables.WithFetchMaxWait(100*time.Millisecond), ktables.WithRetryBackoff(10*time.Millisecond, 100*time.Millisecond),
			ktables.WithMaxStaleness(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer tbl.Close()
		appendRec(t, c, "flags", 0, []byte("a"), []byte("1"))
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		h, err := ktables.NewHealthHandler(ktables.HealthConfig{MaxLag: 100}, tbl)
		if err != nil {
			t.Fatal(err)
		}
		code, b := probe(t, h.Readiness())
		if code != http.StatusOK || b.Status != "ready" || len(b.Tables) != 1 {
			t.Fatalf("ready table: %d %+v", code, b)
		}
		tb := b.Tables[0]
		if tb.Topic != "flags" || tb.Status != "caught up" || !tb.Ready || !tb.Live || tb.Lag != 0 ||
			tb.Stale || tb.MaxStaleness != "1s" || tb.LastFetch.IsZero() || tb.HeadConfirmed.IsZero() || tb.Position != "kt1:flags:0=0" {
			t.Fatalf("ready table body: %+v", tb)
		}

		c.FailNext(memtransport.OpFetch, -1, nil)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		code, b = probe(t, h.Readiness())
		if code != http.StatusServiceUnavailable || b.Status != "not ready" || !b.Tables[0].Stale ||
			len(b.Tables[0].NotReady) != 1 || !strings.Contains(b.Tables[0].NotReady[0], "stale") {
			t.Fatalf("stale table readiness: %d %+v", code, b)
		}
		if code, b := probe(t, h.Liveness()); code != http.StatusOK || b.Status != "live" {
			t.Fatalf("a stale table is still live: %d %+v", code, b)
		}

		c.ClearFaults()
		c.FailNext(memtransport.OpFetch, 1, transport.ErrAuthorization)
		time.Sleep(time.Second)
		synctest.Wait()
		if tbl.Status() != ktables.StatusFailed {
			t.Fatalf("status %v", tbl.Status())
		}
		code, b = probe(t, h.Liveness())
		if code != http.StatusServiceUnavailable || b.Status != "not live" || len(b.Tables[0].NotLive) != 1 ||
			!strings.Contains(b.Tables[0].NotLive[0], "not authorized") {
			t.Fatalf("failed table liveness: %d %+v", code, b)
		}
		if code, _ := probe(t, h.Readiness()); code != http.StatusServiceUnavailable {
			t.Fatal("a failed table is ready")
		}
	})
}

func TestHealthHandlerLagAndMisuse(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	tbl := openBytes(t, ctx, c.Transport(), topicName(t))
	lagging := fakeHealth{ktables.Health{Topic: "x", Status: ktables.StatusCaughtUp, Live: true, Lag: 11}}
	h, err := ktables.NewHealthHandler(ktables.HealthConfig{MaxLag: 10}, tbl, lagging)
	if err != nil {
		t.Fatal(err)
	}
	code, b := probe(t, h.Readiness())
	if code != http.StatusServiceUnavailable || b.Tables[0].Ready == false || b.Tables[1].Ready ||
		len(b.Tables[1].NotReady) != 1 || !strings.Contains(b.Tables[1].NotReady[0], "lag 11 exceeds 10") {
		t.Fatalf("lag over the limit: %d %+v", code, b)
	}
	rec := httptest.NewRecorder()
	h.Readiness().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	h.Liveness().ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("HEAD: %d %q", rec.Code, rec.Body.String())
	}
	for _, bad := range []func() error{
		func() error { _, err := ktables.NewHealthHandler(ktables.HealthConfig{}); return err },
		func() error { _, err := ktables.NewHealthHandler(ktables.HealthConfig{MaxLag: -1}, tbl); return err },
		func() error { _, err := ktables.NewHealthHandler(ktables.HealthConfig{}, nil); return err },
	} {
		if err := bad(); !errors.Is(err, ktables.ErrInvalidOption) {
			t.Errorf("misuse: %v", err)
		}
	}
}

type fakeHealth struct{ h ktables.Health }

func (f fakeHealth) Health() ktables.Health { return f.h }
