//go:build cgo

package confluenttransport

import (
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/ktables/ktables/transport"
)

// producerDefaults are set on the transport's own producer unless the
// caller's ConfigMap sets them. SPEC W4: defaults every broker and every
// reader language handles, set explicitly rather than left to the version
// of librdkafka: acks from all in-sync replicas, no compression,
// idempotence opt-in. linger.ms 0 because a table writer waits for each
// acknowledgement; concurrent writes still share requests while one is in
// flight. Topics are never created by a metadata request: the core creates
// them explicitly (SPEC X5).
var producerDefaults = kafka.ConfigMap{
	"acks":                     "all",
	"compression.type":         "none",
	"enable.idempotence":       false,
	"linger.ms":                0,
	"allow.auto.create.topics": false,
	// How long the broker may wait for replicas (acks=all) before it
	// answers REQUEST_TIMED_OUT, which librdkafka retries: below
	// socket.timeout.ms, so a slow live broker is not taken for dead
	// (ADR 13).
	"request.timeout.ms": 2000,
	// The Go client buffers its Events and ProduceChannel channels for a
	// million entries each by default: 24 MB of heap per transport, held
	// for its life, which a table of reference data would spend more on
	// than on its keys. Delivery reports go to a channel per write and
	// ProduceChannel is never used, so Events carries only errors and
	// logs, which the transport drains as they come.
	"go.events.channel.size":  1024,
	"go.produce.channel.size": 1,
}

// sharedDefaults apply to every handle the transport opens. librdkafka
// leaves Nagle's algorithm on, which delays small requests (a barrier's
// ListOffsets, a single write) by tens of milliseconds.
//
// log_level is left at librdkafka's (6, informational): the lines go to
// the logger of WithLogger, whose handler chooses what to keep.
var sharedDefaults = kafka.ConfigMap{
	"socket.nagle.disable": true,
	// librdkafka waits this long before it believes a topic is missing
	// (30 s by default, for topics still propagating after creation). The
	// core confirms an unknown topic itself and retries it at open, so a
	// deleted topic is reported within a second instead.
	"topic.metadata.propagation.max.ms": 1000,
	// A request on a connection that went silent is noticed only by this
	// timeout (60 s by default), after which librdkafka drops the
	// connection (socket.max.fails=1) and retries on a new one: writes
	// and barriers resume within 5 s of a partition healing (ADR 13).
	"socket.timeout.ms": 4000,
}

// isolationDefault is W4's isolation level, the same as every other
// adapter's. librdkafka's own default is read_committed; set
// isolation.level to choose it.
const isolationDefault = "read_uncommitted"

// consumerForced are set on every fetch session's consumer whatever the
// caller's ConfigMap says, because the fetch contract depends on them
// (SPEC X3, ADR 7): positions are explicit and never committed; a position
// outside the log is reported, not reset; the end of a partition is
// reported, so positions reach end offsets after transaction markers, which
// librdkafka does not deliver.
var consumerForced = kafka.ConfigMap{
	"enable.auto.commit":       false,
	"enable.auto.offset.store": false,
	"auto.offset.reset":        "error",
	"enable.partition.eof":     true,
	"allow.auto.create.topics": false,
	"go.events.channel.enable": false,
	// Assign-only: no rebalance callbacks to route.
	"go.application.rebalance.enable": false,
}

// producerConfig is the ConfigMap of the transport's producer: consumer
// properties would only draw librdkafka's warnings.
func producerConfig(base kafka.ConfigMap) kafka.ConfigMap {
	m := withDefaults(maps.Clone(base), producerDefaults)
	delete(m, "isolation.level")
	return m
}

func withDefaults(m kafka.ConfigMap, defaults kafka.ConfigMap) kafka.ConfigMap {
	for k, v := range defaults {
		if _, set := m[k]; !set {
			m[k] = v
		}
	}
	return m
}

// checkConfig rejects what the core cannot work with, at construction.
func checkConfig(conf kafka.ConfigMap) error {
	if conf == nil {
		return invalidConfig(errors.New("nil ConfigMap"))
	}
	if !nonEmpty(conf, "bootstrap.servers") && !nonEmpty(conf, "metadata.broker.list") {
		return invalidConfig(errors.New("bootstrap.servers is not set"))
	}
	if nonEmpty(conf, "transactional.id") {
		return invalidConfig(errors.New("transactional.id is not supported: the core produces outside transactions"))
	}
	if v, set := conf[logsChannel]; set {
		if _, ok := v.(chan kafka.LogEvent); !ok {
			return invalidConfig(fmt.Errorf("%s is a %T: want a chan kafka.LogEvent", logsChannel, v))
		}
	}
	if v, set := conf["isolation.level"]; set {
		if s := fmt.Sprint(v); s != "read_committed" && s != "read_uncommitted" {
			return invalidConfig(fmt.Errorf("isolation.level %q: want read_committed or read_uncommitted", s))
		}
	}
	return nil
}

func nonEmpty(conf kafka.ConfigMap, key string) bool {
	v, ok := conf[key]
	return ok && v != nil && fmt.Sprint(v) != ""
}

func readCommitted(conf kafka.ConfigMap) bool {
	v, _ := conf.Get("isolation.level", isolationDefault)
	return fmt.Sprint(v) == "read_committed"
}

// consumerConfig is the ConfigMap of one fetch session's consumer.
// maxBrokerWait caps the broker-side long poll librdkafka asks for.
const maxBrokerWait = 500 * time.Millisecond

func consumerConfig(base kafka.ConfigMap, opts transport.FetchOptions, maxWait time.Duration) kafka.ConfigMap {
	m := maps.Clone(base)
	for k := range producerDefaults {
		if _, callers := base[k]; !callers {
			delete(m, k)
		}
	}
	for k, v := range consumerForced {
		m[k] = v
	}
	if _, set := m["isolation.level"]; !set {
		m["isolation.level"] = isolationDefault
	}
	// librdkafka's consumer close waits for the fetch in flight, so its
	// long poll bounds Transport.Close: it stays at Kafka's default however
	// long the caller's Poll waits (Poll waits out its MaxWait over several
	// broker fetches). Its idle CPU is its own threads' more than these
	// fetches'.
	m["fetch.wait.max.ms"] = int(min(maxWait, maxBrokerWait).Milliseconds())
	if opts.MaxBytes > 0 {
		m["fetch.max.bytes"] = int(opts.MaxBytes)
	}
	if !nonEmpty(m, "group.id") {
		// librdkafka consumes assigned partitions only with a group
		// subsystem; the group is never joined nor committed to.
		m["group.id"] = "ktables-fetch-" + rand.Text()
	}
	return m
}

func invalidConfig(err error) error {
	return transport.NewError("new", "", transport.ErrInvalidConfig, fmt.Errorf("confluenttransport: %w", err))
}
