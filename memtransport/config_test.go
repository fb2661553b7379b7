package memtransport_test

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

func configMap(t *testing.T, tr *memtransport.Transport, topic string) map[string]transport.ConfigEntry {
	t.Helper()
	entries, err := tr.DescribeTopicConfig(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]transport.ConfigEntry{}
	for i, e := range entries {
		if i > 0 && entries[i-1].Name >= e.Name {
			t.Fatalf("entries not sorted: %q after %q", e.Name, entries[i-1].Name)
		}
		m[e.Name] = e
	}
	return m
}

func TestCreateTopic(t *testing.T) {
	tr := memtransport.New()
	defer tr.Close()
	ctx := context.Background()
	if err := tr.CreateTopic(ctx, transport.TopicSpec{Name: "t", Partitions: -3}); err != nil {
		t.Fatal(err)
	}
	if ps, _ := tr.Partitions(ctx, "t"); len(ps) != 1 {
		t.Fatalf("partitions %v, want one", ps)
	}
	wantKind(t, tr.CreateTopic(ctx, transport.TopicSpec{Name: "t"}), transport.ErrTopicExists, false)
	_, err := tr.Partitions(ctx, "missing")
	wantKind(t, err, transport.ErrUnknownTopic, false)

	for _, name := range []string{"", ".", "..", "a/b", "spa ce", "ü", strings.Repeat("x", 250)} {
		wantKind(t, tr.CreateTopic(ctx, transport.TopicSpec{Name: name}), transport.ErrInvalidRequest, false)
	}
	for _, name := range []string{"a.b_c-D9", "...", strings.Repeat("x", 249)} {
		if err := tr.CreateTopic(ctx, transport.TopicSpec{Name: name}); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
}

func TestDescribeDefaultsAndOverrides(t *testing.T) {
	tr := memtransport.New()
	defer tr.Close()
	ctx := context.Background()
	err := tr.CreateTopic(ctx, transport.TopicSpec{Name: "t", Configs: map[string]string{
		"cleanup.policy": "compact", "custom.key": "x",
	}})
	if err != nil {
		t.Fatal(err)
	}
	m := configMap(t, tr, "t")
	want := map[string]transport.ConfigEntry{
		"cleanup.policy":        {Name: "cleanup.policy", Value: "compact", Source: transport.SourceTopic},
		"custom.key":            {Name: "custom.key", Value: "x", Source: transport.SourceTopic},
		"retention.ms":          {Name: "retention.ms", Value: "604800000", Source: transport.SourceDefault},
		"delete.retention.ms":   {Name: "delete.retention.ms", Value: "86400000", Source: transport.SourceDefault},
		"min.compaction.lag.ms": {Name: "min.compaction.lag.ms", Value: "0", Source: transport.SourceDefault},
		"segment.ms":            {Name: "segment.ms", Value: "604800000", Source: transport.SourceDefault},
	}
	for k, w := range want {
		if m[k] != w {
			t.Errorf("%s: %+v, want %+v", k, m[k], w)
		}
	}
	_, err = tr.DescribeTopicConfig(ctx, "missing")
	wantKind(t, err, transport.ErrUnknownTopic, false)
}

// SPEC X5, E2: alter is incremental and keeps the other overrides.
func TestAlterPreservesOverrides(t *testing.T) {
	tr := memtransport.New()
	defer tr.Close()
	ctx := context.Background()
	tr.CreateTopic(ctx, transport.TopicSpec{Name: "t", Configs: map[string]string{
		"cleanup.policy": "delete", "retention.ms": "1000",
	}})
	if err := tr.AlterTopicConfig(ctx, "t", map[string]string{"cleanup.policy": "compact"}); err != nil {
		t.Fatal(err)
	}
	got, _ := tr.Cluster().TopicConfig("t")
	if want := map[string]string{"cleanup.policy": "compact", "retention.ms": "1000"}; !maps.Equal(got, want) {
		t.Fatalf("overrides %v, want %v", got, want)
	}
	if e := configMap(t, tr, "t")["retention.ms"]; e.Value != "1000" || e.Source != transport.SourceTopic {
		t.Fatalf("retention.ms %+v", e)
	}
	// The returned map is a copy.
	got["cleanup.policy"] = "delete"
	if again, _ := tr.Cluster().TopicConfig("t"); again["cleanup.policy"] != "compact" {
		t.Fatal("TopicConfig exposes internal state")
	}
}

func TestConfigValidation(t *testing.T) {
	tr := memtransport.New()
	defer tr.Close()
	ctx := context.Background()
	for _, v := range []string{"compact", "delete", "compact,delete", "delete, compact"} {
		if err := tr.CreateTopic(ctx, transport.TopicSpec{Name: "ok" + strings.NewReplacer(",", "", " ", "").Replace(v), Configs: map[string]string{"cleanup.policy": v}}); err != nil {
			t.Errorf("cleanup.policy=%q: %v", v, err)
		}
	}
	bad := []map[string]string{
		{"cleanup.policy": "forever"},
		{"cleanup.policy": "compact,"},
		{"cleanup.policy": ""},
		{"retention.ms": "a week"},
		{"min.cleanable.dirty.ratio": "half"},
		{"": "x"},
	}
	for _, cfg := range bad {
		wantKind(t, tr.CreateTopic(ctx, transport.TopicSpec{Name: "bad", Configs: cfg}), transport.ErrInvalidConfig, false)
	}
	tr.CreateTopic(ctx, transport.TopicSpec{Name: "t", Configs: map[string]string{"retention.ms": "5"}})
	err := tr.AlterTopicConfig(ctx, "t", map[string]string{"retention.ms": "6", "cleanup.policy": "compact+delete"})
	wantKind(t, err, transport.ErrInvalidConfig, false)
	if got, _ := tr.Cluster().TopicConfig("t"); !maps.Equal(got, map[string]string{"retention.ms": "5"}) {
		t.Fatalf("a rejected alter changed the config: %v", got)
	}
	wantKind(t, tr.AlterTopicConfig(ctx, "missing", map[string]string{"a": "b"}), transport.ErrUnknownTopic, false)
}
