// Package transport is the seam between ktables and a Kafka client.
//
// The core library (tables, writers, grouped tables, topic management) talks
// to Kafka only through the small [Transport] interface defined here. Each
// Kafka client gets an adapter module that implements it (franz-go, IBM
// sarama, segmentio kafka-go), and package memtransport implements it in
// memory for unit tests.
//
// # Division of labour
//
// The core owns positions, the catch-up gate, retries with backoff, status,
// partition choice (see [Partition]) and the read-your-own-writes barrier.
// An adapter translates: it maps calls to its client, keeps nil and empty
// values apart, moves positions past gaps and control records, and classifies
// errors (see [Error]). It reports what it cannot serve (a position out of
// range, an unknown topic) instead of resolving it, and returns records and
// errors together (see [Fetcher.Poll]). The bookkeeping every fetcher needs
// lives here once: [Positions], [PollResult], [AbortedBatches]. An adapter
// does not retry on its own beyond what its client does internally; the core
// decides.
//
// # Optional capabilities
//
// Abilities that not every client or broker offers are separate interfaces
// found by type assertion, in the style of database/sql/driver:
// [TopicConfigurer] (describe and alter topic configs) and [PartitionAdder]
// (grow a topic). Each documents what the core does when it is absent.
//
// # Ownership
//
// Record bytes returned by [Fetcher.Poll] belong to the caller: a transport
// must never modify or reuse them afterwards. The core reads them while it
// applies a Poll's records and copies, once, what it keeps (ADR 15): a
// retained key or value never pins a client's fetch buffer, so a transport
// may hand out sub-slices of its buffers.
//
// Record bytes given to [Transport.Produce] are read-only to the
// transport: a key may be the bytes of a Go string, which must never be
// written. The transport may go on reading them after Produce returned (a
// message left in flight when its context ended).
package transport

import (
	"context"
	"time"
)

// Transport is what the core needs from a Kafka client. Implementations must
// be safe for concurrent use by multiple goroutines.
type Transport interface {
	// Partitions returns the partition ids of topic in ascending order.
	// An unknown topic is an error matching ErrUnknownTopic. (SPEC X1)
	Partitions(ctx context.Context, topic string) ([]int32, error)

	// StartOffsets returns the log start offset (earliest available) of each
	// requested partition. (SPEC X2)
	StartOffsets(ctx context.Context, topic string, partitions []int32) (map[int32]int64, error)

	// EndOffsets returns the high watermark of each requested partition (the
	// last stable offset when the transport reads committed records only).
	// It must not be delayed by an in-flight long-poll fetch of the same
	// transport: the barrier's latency depends on it. (SPEC X2, B4)
	EndOffsets(ctx context.Context, topic string, partitions []int32) (map[int32]int64, error)

	// NewFetcher opens a fetch session reading topic from the given
	// per-partition positions. One table uses one fetcher; an adapter may
	// keep fetches in flight between polls. (SPEC X3)
	NewFetcher(ctx context.Context, topic string, from map[int32]int64, opts FetchOptions) (Fetcher, error)

	// Produce appends rec to rec.Partition of topic and returns its offset
	// once the broker acknowledged it (per the adapter's acks setting).
	// A nil rec.Value is a tombstone; an empty non-nil one is data. Calls
	// from many goroutines are pipelined, not serialized. (SPEC X4)
	Produce(ctx context.Context, topic string, rec Record) (offset int64, err error)

	// CreateTopic creates a topic. An existing topic is an error matching
	// ErrTopicExists. (SPEC X5)
	CreateTopic(ctx context.Context, spec TopicSpec) error

	// Close releases what the transport opened. A transport built from a
	// caller's native client does not close that client. (SPEC X7)
	Close() error
}

// Fetcher is a fetch session over one topic. Poll is called from one
// goroutine at a time; Assign and Close may be called concurrently with Poll.
type Fetcher interface {
	// Poll waits up to FetchOptions.MaxWait for records and returns what
	// arrived, possibly nothing, together with the first error met, as
	// io.Reader does: the caller processes the batch, then the error. A
	// fetcher never holds an error back for a later Poll. It returns
	// promptly when ctx is done, with ctx's error.
	//
	// Records of one partition come in offset order. Batch.Next carries the
	// position to fetch next for every partition that advanced, which may lie
	// beyond the last record's offset+1 (compaction holes, transaction
	// control records, aborted batches).
	//
	// A fetcher does not decide where to go when a position is not served:
	// a position outside a partition's log (below its start or past its
	// end) is an error matching ErrOffsetOutOfRange that names the
	// partitions (Error.Partitions), whose positions stay put; a topic or
	// partition the broker does not know is an error matching
	// ErrUnknownTopic, reported as the broker said it, unconfirmed. The
	// core resolves both with StartOffsets, EndOffsets and Partitions, and
	// moves positions with Assign. (SPEC X3, ADR 7)
	Poll(ctx context.Context) (Batch, error)

	// Assign starts fetching the given partitions at the given positions, or
	// moves partitions already fetched to new positions. Used for partitions
	// found after the session opened and to resume after an error.
	Assign(positions map[int32]int64) error

	// Close ends the session. Poll after Close returns ErrClosed.
	Close() error
}

// FetchOptions tunes a fetch session.
type FetchOptions struct {
	// MaxWait is how long a Poll may wait for records when none are
	// available (the long poll). Zero means the adapter's default, which
	// should be Kafka's fetch.max.wait.ms default of 500 ms.
	MaxWait time.Duration

	// MaxBytes caps one fetch response. Zero means the adapter's default.
	MaxBytes int32

	// Ends, when set, are the end offsets the caller read for the
	// session's partitions just before opening it. They are a hint, never
	// a bound: a transport may use them to plan its first fetches (which
	// partitions have records waiting, so that a catch-up can be spread
	// over concurrent requests) before any fetch answer has told it, and
	// fetches past them as usual. Read-only to the transport.
	Ends map[int32]int64
}

// Batch is the result of one Poll.
type Batch struct {
	// Records in offset order per partition. Partitions may interleave.
	Records []Record
	// Next is the position to fetch next, per partition that advanced.
	Next map[int32]int64
	// HighWatermarks are the end offsets the fetch answers reported, per
	// partition answered: the same quantity as EndOffsets (the last stable
	// offset when reading committed records only), as fresh as the fetch.
	// Kafka fetch responses carry them, so reporting them costs no request;
	// the core derives lag and freshness from them (SPEC T3). Optional: nil
	// when the transport does not know.
	HighWatermarks map[int32]int64
}

// Record is one Kafka record.
//
// Value nil is a tombstone; Value non-nil and empty is data. Adapters keep the
// two apart in both directions (SPEC R1). Key nil is a keyless record.
type Record struct {
	Key       []byte
	Value     []byte
	Headers   []Header
	Timestamp time.Time
	// Partition is where the record lives, or, for Produce, where it must go.
	Partition int32
	// Offset is set on fetched records; ignored by Produce.
	Offset int64
}

// Header is a record header. Kafka allows duplicate header keys; order is kept.
type Header struct {
	Key   string
	Value []byte
}

// TopicSpec describes a topic to create.
type TopicSpec struct {
	Name string
	// Partitions is the partition count; zero or less means 1.
	Partitions int32
	// ReplicationFactor; zero or less means the broker's default.
	ReplicationFactor int16
	// Configs are topic-level overrides such as cleanup.policy.
	Configs map[string]string
}

// TopicConfigurer is an optional capability: describe and alter a topic's
// configuration. Without it, the core reports the policy check as
// "unreadable" and changes nothing (SPEC E2).
type TopicConfigurer interface {
	// DescribeTopicConfig returns every config entry of topic with its source.
	DescribeTopicConfig(ctx context.Context, topic string) ([]ConfigEntry, error)

	// AlterTopicConfig sets the given keys and preserves every other
	// explicit override of the topic (incremental alter semantics, even on
	// clients that only speak the legacy full-replace request).
	AlterTopicConfig(ctx context.Context, topic string, set map[string]string) error
}

// PartitionAdder is an optional capability: grow a topic to a total number of
// partitions. Without it, partitions are added by other means (an admin tool)
// and the core still discovers them (SPEC L4).
type PartitionAdder interface {
	CreatePartitions(ctx context.Context, topic string, total int32) error
}

// ConfigEntry is one topic configuration entry.
type ConfigEntry struct {
	Name  string
	Value string
	// Source tells where the value comes from. Only SourceTopic entries are
	// explicit overrides of this topic.
	Source    ConfigSource
	ReadOnly  bool
	Sensitive bool
}

// ConfigSource is where a config value comes from, as Kafka's
// DescribeConfigs reports it.
type ConfigSource int8

const (
	SourceUnknown       ConfigSource = iota
	SourceTopic                      // explicit override on this topic
	SourceBrokerDynamic              // dynamic broker config (this or all brokers)
	SourceBrokerStatic               // server.properties
	SourceDefault                    // Kafka's built-in default
)

func (s ConfigSource) String() string {
	switch s {
	case SourceTopic:
		return "topic"
	case SourceBrokerDynamic:
		return "broker-dynamic"
	case SourceBrokerStatic:
		return "broker-static"
	case SourceDefault:
		return "default"
	default:
		return "unknown"
	}
}
