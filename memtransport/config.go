package memtransport

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ktables/ktables/transport"
)

type valueKind uint8

const (
	kindString valueKind = iota
	kindInt
	kindFloat
	kindPolicy
)

// kafkaDefaults are Kafka's built-in defaults for the topic configs tests
// are most likely to look at; DescribeTopicConfig reports them with
// SourceDefault unless overridden. Other keys are accepted and stored as
// overrides without validation, as the set of topic configs differs between
// Kafka versions.
var kafkaDefaults = map[string]struct {
	value string
	kind  valueKind
}{
	"cleanup.policy":            {"delete", kindPolicy},
	"compression.type":          {"producer", kindString},
	"delete.retention.ms":       {"86400000", kindInt},
	"max.compaction.lag.ms":     {"9223372036854775807", kindInt},
	"max.message.bytes":         {"1048588", kindInt},
	"message.timestamp.type":    {"CreateTime", kindString},
	"min.cleanable.dirty.ratio": {"0.5", kindFloat},
	"min.compaction.lag.ms":     {"0", kindInt},
	"min.insync.replicas":       {"1", kindInt},
	"retention.bytes":           {"-1", kindInt},
	"retention.ms":              {"604800000", kindInt},
	"segment.bytes":             {"1073741824", kindInt},
	"segment.ms":                {"604800000", kindInt},
}

// validateConfigs checks what Kafka would reject for the known keys.
func validateConfigs(m map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		if k == "" {
			return fmt.Errorf("empty config name")
		}
		switch kafkaDefaults[k].kind {
		case kindInt:
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return fmt.Errorf("%s=%q is not an integer", k, v)
			}
		case kindFloat:
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return fmt.Errorf("%s=%q is not a number", k, v)
			}
		case kindPolicy:
			if err := validatePolicy(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// validatePolicy accepts a comma-separated list of "compact" and "delete",
// as Kafka does (whitespace around words is trimmed).
func validatePolicy(v string) error {
	for w := range strings.SplitSeq(v, ",") {
		switch strings.TrimSpace(w) {
		case "compact", "delete":
		default:
			return fmt.Errorf("cleanup.policy=%q: %q is not one of compact, delete", v, strings.TrimSpace(w))
		}
	}
	return nil
}

// describeLocked lists the defaults and the overrides, sorted by name.
// tp.mu must be held.
func (tp *topic) describeLocked() []transport.ConfigEntry {
	names := slices.Collect(maps.Keys(kafkaDefaults))
	for k := range tp.configs {
		if _, ok := kafkaDefaults[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	out := make([]transport.ConfigEntry, 0, len(names))
	for _, k := range names {
		if v, ok := tp.configs[k]; ok {
			out = append(out, transport.ConfigEntry{Name: k, Value: v, Source: transport.SourceTopic})
		} else {
			out = append(out, transport.ConfigEntry{Name: k, Value: kafkaDefaults[k].value, Source: transport.SourceDefault})
		}
	}
	return out
}

// maxMessageBytesLocked is the record size limit. tp.mu must be held.
func (tp *topic) maxMessageBytesLocked() int {
	v, ok := tp.configs["max.message.bytes"]
	if !ok {
		v = kafkaDefaults["max.message.bytes"].value
	}
	n, _ := strconv.Atoi(v) // validated on the way in
	return n
}

// alter sets the given keys and keeps every other override (incremental
// alter). Nothing changes when any value is invalid.
func (tp *topic) alter(op string, set map[string]string) error {
	if err := validateConfigs(set); err != nil {
		return transport.NewError(op, tp.name, transport.ErrInvalidConfig, err)
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if tp.deleted {
		return transport.NewError(op, tp.name, transport.ErrUnknownTopic, nil)
	}
	maps.Copy(tp.configs, set)
	return nil
}
