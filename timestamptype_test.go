package ktables_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// SPEC V5 (issue 19): a table opened WithTTL records whose clock stamps its
// records: the broker's (LogAppendTime, logged at debug) or the producers'
// (CreateTime, said once at info), and reports it in Health.
func TestTTLTimestampType(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	var mu sync.Mutex
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	logged := func(s string) bool { mu.Lock(); defer mu.Unlock(); return strings.Contains(logs.String(), s) }
	ttl := ktables.WithTTL(time.Minute)

	// Created by the table's own EnsureTopic with LogAppendTime: known
	// without a describe.
	describes := c.Calls(memtransport.OpDescribeConfig)
	lat := openBytes(t, ctx, c.Transport(), "leases", ttl, ktables.WithLogAppendTime(), ktables.WithLogger(logger))
	if lat.TimestampType() != ktables.TimestampLogAppendTime || lat.Health().TimestampType != ktables.TimestampLogAppendTime {
		t.Fatalf("created with LogAppendTime: %v", lat.TimestampType())
	}
	if n := c.Calls(memtransport.OpDescribeConfig) - describes; n != 0 {
		t.Fatalf("%d describes for a topic the table just created", n)
	}
	if !logged("the broker's clock decides expiry") {
		t.Fatalf("LogAppendTime not logged:\n%s", logs.String())
	}
	// An existing LogAppendTime topic, not ensured: one describe.
	again := openBytes(t, ctx, c.Transport(), "leases", ttl, ktables.WithoutEnsureTopic())
	if again.TimestampType() != ktables.TimestampLogAppendTime {
		t.Fatalf("existing LogAppendTime topic: %v", again.TimestampType())
	}

	// CreateTime: said at info.
	createTopic(t, c, "plain", 1)
	ct := openBytes(t, ctx, c.Transport(), "plain", ttl, ktables.WithLogger(logger))
	if ct.TimestampType() != ktables.TimestampCreateTime {
		t.Fatalf("CreateTime topic: %v", ct.TimestampType())
	}
	mu.Lock()
	infos := strings.Count(logs.String(), "level=INFO msg=\"ktables: topic uses CreateTime")
	mu.Unlock()
	if infos != 1 {
		t.Fatalf("CreateTime logged at info %d times:\n%s", infos, logs.String())
	}
	h, err := ktables.NewHealthHandler(ktables.HealthConfig{}, ct)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.Readiness().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	var body struct {
		Tables []struct {
			TimestampType string `json:"timestamp_type"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Tables) != 1 || body.Tables[0].TimestampType != "CreateTime" {
		t.Fatalf("health body: %v %s", err, rec.Body.String())
	}

	// Without a TTL nothing is read; a describe that fails leaves it
	// unknown and the table opens all the same.
	describes = c.Calls(memtransport.OpDescribeConfig)
	if tt := openBytes(t, ctx, c.Transport(), "plain", ktables.WithoutEnsureTopic()).TimestampType(); tt != ktables.TimestampUnknown ||
		c.Calls(memtransport.OpDescribeConfig) != describes {
		t.Fatalf("no TTL: %v, %d describes", tt, c.Calls(memtransport.OpDescribeConfig)-describes)
	}
	c.FailNext(memtransport.OpDescribeConfig, 1, transport.ErrAuthorization)
	if tt := openBytes(t, ctx, c.Transport(), "plain", ttl, ktables.WithoutEnsureTopic()).TimestampType(); tt != ktables.TimestampUnknown {
		t.Fatalf("failed describe: %v", tt)
	}
	for tt, want := range map[ktables.TimestampType]string{ktables.TimestampUnknown: "unknown", ktables.TimestampCreateTime: "CreateTime",
		ktables.TimestampLogAppendTime: "LogAppendTime", 9: "TimestampType(9)"} {
		if tt.String() != want {
			t.Errorf("%d.String() = %q", tt, tt.String())
		}
	}
}
