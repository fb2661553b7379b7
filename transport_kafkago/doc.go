// Package kafkagotransport connects ktables to Kafka through segmentio's
// kafka-go (github.com/segmentio/kafka-go, v0.4.51). It implements
// transport.Transport and the optional transport.TopicConfigurer and
// transport.PartitionAdder.
//
// # Usage
//
// Build a transport from seed brokers and the kafka-go connection settings
// your organization already uses, as a kafka.Transport or a kafka.Dialer
// (TLS, SASL, client id), and hand it to the core:
//
//	mech, err := scram.Mechanism(scram.SHA512, user, pass)
//	if err != nil {
//		return err
//	}
//	tr, err := kafkagotransport.New([]string{"broker-1:9092", "broker-2:9092"},
//		kafkagotransport.WithTransport(&kafka.Transport{
//			ClientID: "billing",
//			TLS:      tlsConfig,
//			SASL:     mech,
//		}),
//		kafkagotransport.WithCompression(kafka.Zstd),
//	)
//	if err != nil {
//		return err
//	}
//	defer tr.Close()
//	tbl, err := ktables.Open(ctx, tr, "services", ktables.String())
//
// Or wrap a kafka.Client you already have; the transport never closes or
// changes it:
//
//	tr, err := kafkagotransport.NewFromClient(client)
//
// [Transport.As] reaches the native *kafka.Client.
//
// # How calls map to kafka-go
//
//   - Fetch does not use kafka.Reader: it turns an empty value into nil,
//     which would read empty data as a tombstone (SPEC R1). Nor
//     kafka.Client.Fetch: it reads one partition per request and hides
//     control batches, so a reader cannot move past a trailing transaction
//     marker to the high watermark. The fetch session sends protocol/fetch
//     requests through the client's kafka.RoundTripper: one per partition
//     leader at the head, and, for partitions with records waiting, up to
//     4 × GOMAXPROCS concurrent ones per leader, whose answers are decoded
//     as they arrive and handed over by the Polls that follow (ADR 20). It
//     walks the decoded record batches itself: a null value stays nil, an
//     empty one stays empty; control batches, aborted transactions (under
//     read committed, from the response's aborted-transaction list),
//     compaction holes and batches starting past the position all advance
//     it. The long poll is FetchOptions.MaxWait (default DefaultMaxWait);
//     Poll returns promptly when its context ends. A position out of the
//     log is reported as transport.ErrOffsetOutOfRange and the core moves
//     it.
//   - Produce goes through kafka.Client.Produce with the explicit
//     partition the core chose (murmur2, SPEC P1): kafka-go's balancers,
//     round-robin by default, are never used. Records of concurrent calls
//     are batched per partition, one request in flight per partition.
//     Acks default to kafka.RequireAll.
//   - EndOffsets and StartOffsets are one ListOffsets round trip per leader
//     (kafka.Client.ListOffsets). kafka-go's Transport runs one request at a
//     time per connection and uses another connection when one is busy, so
//     a long-poll fetch in flight never delays them (SPEC X2, B4): measured
//     on kfake during a 2 s long poll, about 1 ms.
//   - Admin requests use kafka.Client: CreateTopics, DescribeConfigs,
//     IncrementalAlterConfigs (other overrides stay), CreatePartitions.
//
// # Metadata
//
// kafka-go's Transport routes requests from a metadata cache that it
// refreshes every MetadataTTL (6 s by default) and offers no call to
// refresh. Partitions therefore asks the cluster on a short-lived
// connection with the same settings, and when the cache lags behind what
// it found (a topic another process created, partitions just added) it
// makes the cache refresh at once (see Transport.Partitions).
//
// # Recovery from network faults and leader moves
//
// kafka-go bounds a request only by the deadline it puts on the
// connection. A request ends shortly after its callers' deadline (a batch
// of records: the latest of theirs) and at most [DefaultRequestTimeout]
// after it started, so a silent connection does not hold a partition's
// writes for 30 s. The connections of [New]'s transport are watched: when
// one to a broker times out, the others to it that were silent as long are
// closed too (transport.SilenceWatch), and a peer that answers but is not
// Kafka is recognized by its first bytes instead of being decoded at full
// CPU. On NOT_LEADER_FOR_PARTITION (and kin) the adapter refreshes
// kafka-go's metadata cache, which otherwise keeps routing to the old
// leader for MetadataTTL; a produce batch is sent once more. ListOffsets
// goes as one request per leader: kafka-go's own split costs time
// quadratic in the partition count.
//
// # Errors
//
// Errors are *transport.Error values: errors.Is matches the kind
// (transport.ErrAuthorization, transport.ErrUnknownTopic, ...) and the class
// (transport.ErrRetriable, transport.ErrFatal), and errors.As reaches the
// native error, usually a kafka.Error. When the caller's context ends, its
// error is returned as is.
//
// A wrong SASL password fails with transport.ErrAuthentication, also
// against brokers that close the connection instead of answering
// SASL_AUTHENTICATION_FAILED (Kafka before 1.0, kfake), which kafka-go
// itself reports as an unexpected EOF: the transport watches the SASL
// exchanges of the kafka.Transport values it creates.
package kafkagotransport
