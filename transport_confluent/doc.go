// Package confluenttransport adapts confluent-kafka-go (librdkafka, through
// cgo) to ktables' transport.Transport.
//
// It requires cgo (CGO_ENABLED=1 and a C compiler); librdkafka comes
// bundled with the client, no system package is needed. Built without cgo,
// the package fails to compile with an error naming the cause.
//
// [New] takes the caller's kafka.ConfigMap and opens a producer (with an
// admin client over its connections) and one consumer per fetch session;
// [NewFromHandles] works over the caller's own producer, consumer and admin
// client and never closes them. [Transport.As] reaches the native handles.
//
// How librdkafka's behaviour maps to the fetch contract (SPEC X3, ADR 7):
//
//   - Positions are assigned explicitly (Assign, IncrementalAssign); no
//     consumer group is joined and nothing is committed.
//   - librdkafka does not deliver transaction markers: positions move past
//     them when the consumer reports the end of a partition
//     (enable.partition.eof), whose offset is also the batch's high
//     watermark (the last stable offset under read committed).
//   - With auto.offset.reset=error a position outside the log is reported,
//     not reset. librdkafka does not say which partition: the fetcher
//     compares positions with the log bounds and names those outside.
//   - Start and end offsets go through the admin client (ListOffsets),
//     never behind a consumer's long poll.
//   - librdkafka retries some broker errors inside itself (not leader,
//     unknown topic while it refreshes metadata); those never reach the
//     core, and the data arrives once they clear (kafkatest's
//     Adapter.FetchRetriesInternally). A deleted topic is reported within
//     about a second (topic.metadata.propagation.max.ms, 1000 here).
//
// librdkafka keeps retrying connections by itself and tells about them
// only in client-level events, which the transport reads from its own
// producer (not from a caller's handles):
//
//   - Rejected credentials fail every waiting and later call with an error
//     matching transport.ErrAuthentication, until a call succeeds: at once
//     when the broker answers SASL_AUTHENTICATION_FAILED, at the second
//     rejection in a row when it closes the connection instead.
//   - A call that runs out of time says why: its context error is a
//     transport.ContextError carrying the last connection failure (a
//     refused connection unwraps to syscall.ECONNREFUSED).
//   - socket.timeout.ms is 4 s (librdkafka's default is 60 s) and
//     request.timeout.ms 2 s, so a connection gone silent is given up and
//     writes and barriers resume within 5 s of a network partition
//     healing (ADR 13). librdkafka has no dialer hook, so the connections
//     are not shared-watched as transport.SilenceWatch does for the other
//     adapters: each notices silence by its own timeout.
//   - The producer's go.events.channel.size is 1024 and its
//     go.produce.channel.size 1: the Go client's defaults (a million
//     entries each) hold 24 MB of heap for the life of a transport.
//
// What could not be made to match the other adapters: librdkafka assigns
// partitions in a time that grows with the square of their count (about
// 7 s for 30,000, 1 s for 10,000), so a table of 30,000 partitions does
// not open within 5 s; NewFetcher honours its context meanwhile. The
// offset lookups, quadratic too, are split into requests of 2,000
// partitions.
//
// librdkafka's log lines go to the *slog.Logger of [WithLogger], at levels
// mapped from syslog's, and are discarded by default: nothing reaches
// stderr unless the ConfigMap sets go.logs.channel.enable=false.
//
// Errors are classified through package transport's shared table for
// broker codes, and librdkafka's local codes here; the native kafka.Error
// stays reachable with errors.As.
package confluenttransport
