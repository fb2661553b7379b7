package transport_test

import (
	"testing"

	"github.com/ktables/ktables/transport"
)

func TestTopicSpecCounts(t *testing.T) {
	for _, c := range []struct {
		spec transport.TopicSpec
		p    int32
		rf   int16
	}{
		{transport.TopicSpec{}, 1, -1},
		{transport.TopicSpec{Partitions: -3, ReplicationFactor: -2}, 1, -1},
		{transport.TopicSpec{Partitions: 12, ReplicationFactor: 3}, 12, 3},
	} {
		if p, rf := c.spec.Counts(); p != c.p || rf != c.rf {
			t.Errorf("%+v: %d, %d; want %d, %d", c.spec, p, rf, c.p, c.rf)
		}
	}
}

func TestConfigSourceOf(t *testing.T) {
	want := map[int8]transport.ConfigSource{
		1: transport.SourceTopic, 2: transport.SourceBrokerDynamic, 3: transport.SourceBrokerDynamic,
		4: transport.SourceBrokerStatic, 5: transport.SourceDefault, 0: transport.SourceUnknown, 6: transport.SourceUnknown,
	}
	for code, src := range want {
		if got := transport.ConfigSourceOf(code, false); got != src {
			t.Errorf("code %d: %s, want %s", code, got, src)
		}
	}
	if got := transport.ConfigSourceOf(0, true); got != transport.SourceDefault {
		t.Errorf("v0 default: %s", got)
	}
	if got := transport.ConfigSourceOf(6, true); got != transport.SourceUnknown {
		t.Errorf("unknown code with isDefault: %s", got)
	}
}
