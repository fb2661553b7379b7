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
//     core. A deleted topic is reported within about a second
//     (topic.metadata.propagation.max.ms, 1000 here).
//
// Errors are classified through package transport's shared table for
// broker codes, and librdkafka's local codes here; the native kafka.Error
// stays reachable with errors.As.
package confluenttransport
