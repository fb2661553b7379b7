// Package ktables materializes a compacted Kafka topic into an in-memory,
// last-write-wins map in every process that opens it — the GlobalKTable shape
// — for reference data every service needs at once: service registries,
// feature flags, config maps, capability advertisements.
//
// # Reading
//
// Open replays the topic from the log start of each partition, returns once
// it has caught up with the end offsets it saw at open, and keeps applying new
// records on a background goroutine until Close:
//
//	tbl, err := ktables.Open(ctx, tr, "feature-flags", ktables.JSON[Flag]())
//	if err != nil { ... }
//	defer tbl.Close()
//	flag, ok := tbl.Get("checkout.new-flow") // memory only, any goroutine
//
// Reads never touch the network. Values are decoded once and shared: do not
// modify what Get returns.
//
// # Writing
//
// A Writer upserts and deletes keys; each call returns after the broker
// acknowledged the record. Partitions are chosen with the Java client's
// murmur2 partitioner whatever Kafka client is underneath, so per-key order
// holds across processes and clients:
//
//	w, err := ktables.OpenWriter(ctx, tr, "feature-flags", ktables.JSON[Flag]())
//	err = w.Set(ctx, "checkout.new-flow", Flag{On: true})
//	err = w.Delete(ctx, "legacy.banner") // a tombstone
//
// # Read your own writes
//
// A table follows the topic asynchronously. Barrier makes every write
// acknowledged before the call visible: after w.Set returns, tbl.Barrier(ctx)
// returns once tbl.Get sees the value. On an idle table it costs one offsets
// round trip.
//
// # Grouped tables
//
// OpenGrouped reads a topic whose keys are (group, member) pairs and serves
// {group: {member: value}}: each process announces its own member with a
// GroupedWriter, so many writers share one registry without racing.
//
// # Transports
//
// The package talks to Kafka only through transport.Transport. Pick the
// adapter for the client your organization runs — transport_franz (franz-go),
// transport_sarama (IBM sarama) or transport_kafkago (segmentio kafka-go),
// each its own module — and unit-test with memtransport, an in-memory broker
// with fault injection. Package conformance checks any transport, or any
// cluster, against the behaviour this package relies on.
//
// # Failure
//
// Transient errors (broker restarts, leader changes, timeouts) are retried
// with backoff from the applied positions and lose nothing. A fatal error
// (authorization, a deleted topic) stops the reader: Status becomes
// StatusFailed, Err returns the cause, and reads serve the frozen contents.
// Records that cannot be decoded, and keyless records, are counted in Stats
// and skipped; they never stop the reader or change the previous entry.
//
// Errors are values to check with errors.Is and errors.As: ErrClosed,
// ErrInvalidOption, ErrTableFailed, ErrTopicPolicyMismatch and the sentinels
// of package transport such as transport.ErrAuthorization.
//
// # Logging
//
// The package is silent unless given a *slog.Logger with WithLogger.
package ktables
