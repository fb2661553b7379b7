// Package franztransport connects ktables to Kafka through franz-go
// (github.com/twmb/franz-go). It implements transport.Transport and the
// optional transport.TopicConfigurer and transport.PartitionAdder.
//
// # Usage
//
// Build a transport from seed brokers and the kgo options your organization
// already uses (TLS, SASL, client id, compression, acks...), and hand it to
// the core:
//
//	tr, err := franztransport.New([]string{"broker-1:9092", "broker-2:9092"},
//		kgo.ClientID("billing"),
//		kgo.DialTLSConfig(tlsConfig),
//		kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()),
//		kgo.ProducerBatchCompression(kgo.ZstdCompression()),
//	)
//	if err != nil {
//		return err
//	}
//	defer tr.Close()
//	// ... open tables and writers over tr.
//
// Or wrap a client you already have; the transport never closes it:
//
//	tr, err := franztransport.NewFromClient(cl)
//
// [Transport.As] reaches the native *kgo.Client and *kadm.Client.
//
// # How calls map to franz-go
//
//   - Metadata, ListOffsets and admin requests (CreateTopics, DescribeConfigs,
//     IncrementalAlterConfigs, CreatePartitions) go through the main client.
//     EndOffsets is one ListOffsets round trip (no metadata request first)
//     and never waits behind a long-poll fetch: fetch sessions run on other
//     clients, and kgo uses a dedicated connection per broker for fetches
//     anyway (SPEC X2, B4). Measured on kfake during a 2 s long poll: about
//     1 ms, on the fetching client itself as well as on the main client.
//   - Each fetch session (one per table) is a dedicated kgo client consuming
//     explicit partitions at explicit offsets, with kgo.KeepControlRecords
//     so that positions move past transaction markers; control records are
//     never returned as records. Its long poll is FetchOptions.MaxWait
//     (default 500 ms). A position out of the log (compaction, retention,
//     DeleteRecords, truncation) is reported as transport.ErrOffsetOutOfRange
//     (kgo.NoResetOffset) and the core moves it. Retriable fetch errors are
//     reported to the core (kgo.KeepRetryableFetchErrors), which counts them
//     and polls the same session again after a backoff step.
//   - Produce hands the record to kgo with the record's explicit partition
//     (kgo.ManualPartitioner) and waits for its ack; concurrent calls are
//     batched together by kgo. A nil value is produced as a null value
//     (tombstone), an empty one as an empty value, and both come back that
//     way.
//
// # Produce latency
//
// New sets kgo.ProducerLinger(0) ahead of the caller's options: kgo lingers
// 10 ms by default to fill batches, which a writer waiting for each ack
// pays in full (measured: 10.8 ms per sequential write on kfake, 0.15 ms
// without). Concurrent writes still batch while a request is in flight. Pass
// kgo.ProducerLinger yourself to change it. A client given to NewFromClient
// keeps its own setting.
//
// # Read committed
//
// With kgo.FetchIsolationLevel(kgo.ReadCommitted()) among the options,
// fetch sessions skip aborted transactions and EndOffsets lists last stable
// offsets instead of high watermarks, so a reader that has consumed
// everything it can see has reached the end offsets. Without it, records of
// aborted transactions are delivered like any others (read uncommitted, the
// Kafka default).
//
// # Recovery from network faults and topic changes
//
// [New] sets kgo.RequestTimeoutOverhead ([DefaultRequestTimeoutOverhead])
// and kgo.ProduceRequestTimeout ([DefaultProduceRequestTimeout]) unless the
// caller's options set them, so that a connection gone silent (a network
// partition) is given up within about 4 s instead of kgo's 20 s and more;
// writes and barriers then resume within seconds of the network healing.
// A topic deleted and re-created under a producer makes kgo fail every
// record with UNKNOWN_TOPIC_ID (it keeps the old topic ID): Produce then
// purges the topic from the producer once and returns a retriable error,
// so the writer's next attempt (or a new writer) produces to the new topic.
//
// # Errors
//
// Errors are *transport.Error values: errors.Is matches the kind
// (transport.ErrAuthorization, transport.ErrUnknownTopic, ...) and the class
// (transport.ErrRetriable, transport.ErrFatal), and errors.As reaches the
// native error, usually a *kerr.Error. When the caller's context ends, its
// error is returned as is.
//
// A wrong SASL password fails with transport.ErrAuthentication, quickly,
// also against brokers that close the connection instead of answering
// SASL_AUTHENTICATION_FAILED (Kafka before 1.0, kfake): the transport
// watches the SASL exchanges of the clients it creates. Requests through a
// caller's client given to NewFromClient are not watched that way.
package franztransport
