// Package memtransport is an in-memory, Kafka-like broker that implements
// [transport.Transport], [transport.TopicConfigurer] and
// [transport.PartitionAdder]. Use it to unit-test code built on ktables
// without a broker: it is deterministic, fast, and safe for concurrent use.
//
// # Getting started
//
// [New] returns a client of a fresh cluster; closing the client also ends the
// cluster:
//
//	tr := memtransport.New()
//	defer tr.Close()
//	_ = tr.CreateTopic(ctx, transport.TopicSpec{Name: "flags", Partitions: 3})
//	off, err := tr.Produce(ctx, "flags", transport.Record{Key: []byte("k"), Value: []byte("v")})
//
// To model several processes sharing one broker, create a [Cluster] and hand
// each component its own client with [Cluster.Transport]. Closing one client
// ends only that client's calls and fetchers; the cluster keeps its data:
//
//	c := memtransport.NewCluster(memtransport.WithDefaultFetchWait(50 * time.Millisecond))
//	defer c.Close()
//	writer, reader := c.Transport(), c.Transport()
//
// # Shaping the log
//
// The [Cluster] methods act on the broker directly, bypassing fault injection
// and latency, so a test can arrange a log the way a real broker would leave
// it: [Cluster.Append] (seed records), [Cluster.SkipOffsets] (a hole, as left
// by compaction or aborted transactions), [Cluster.AppendControl] (a
// transaction marker: occupies an offset, never delivered), [Cluster.Compact]
// (keep the last record per key and move the log start, as kfake does),
// [Cluster.DeleteRecordsBefore] (retention), [Cluster.CreatePartitions] and
// [Cluster.DeleteTopic]. Inspect with [Cluster.Records],
// [Cluster.HighWatermark], [Cluster.LogStartOffset] and [Cluster.TopicConfig].
//
// # Fault injection
//
// [Cluster.FailNext] makes the next n calls of an [Op] fail; the error's class
// decides what the caller does. A retriable fault (broker restart) should be
// survived, a fatal one (authorization) should stop a table:
//
//	c.FailNext(memtransport.OpFetch, 3, transport.NewError("fetch", "t", transport.ErrBrokerUnavailable, nil))
//	c.FailNext(memtransport.OpProduce, 1, transport.ErrAuthorization) // wrapped: fatal
//
// [Cluster.SetLatency] delays every call of an op (honouring the context),
// [Cluster.ClearFaults] removes all faults, and [Cluster.Calls] counts calls
// per op, e.g. to prove that a read never reached the broker.
//
// # Semantics
//
// Offsets are per partition and start at 0. The high watermark is the offset
// the next record will get; it is also the last stable offset, as there are
// no open transactions. A fetch position outside a partition's log (below
// the log start after DeleteRecordsBefore or Compact, or above the high
// watermark) is reported as the real adapters report Kafka's
// OFFSET_OUT_OF_RANGE: Poll returns an error matching
// [transport.ErrOffsetOutOfRange] naming the partitions, together with what
// the other partitions delivered, and leaves those positions where they are;
// the core moves them (to the log start, as auto.offset.reset=earliest
// does). Negative positions are an error matching
// [transport.ErrInvalidRequest], as on the real adapters. Every Poll
// reports the high watermark of each assigned partition in
// [transport.Batch.HighWatermarks].
//
// Produce keeps nil and empty keys and values apart (a nil value is a
// tombstone) and defaults a zero timestamp to the current time. Records
// larger than the topic's max.message.bytes (default 1048588) are rejected
// with [transport.ErrRecordTooLarge].
//
// Record bytes returned by Poll and [Cluster.Records] are shared by every
// fetcher of the cluster and are never modified by this package; callers must
// treat them as read-only too.
package memtransport
