// Package saramatransport connects ktables to Kafka through IBM sarama
// (github.com/IBM/sarama). It implements transport.Transport and the
// optional transport.TopicConfigurer and transport.PartitionAdder, so an
// organization standardized on sarama gets the same library, byte for
// byte, as one on franz-go.
//
// # Usage
//
// Build a transport from seed brokers and the *sarama.Config your
// organization already uses (TLS, SASL, client id, compression, acks...),
// and hand it to the core:
//
//	cfg := saramatransport.NewConfig() // sarama.NewConfig() with acks=all, no idempotence, no compression, read uncommitted, protocol 3.0
//	cfg.ClientID = "billing"
//	cfg.Net.TLS.Enable, cfg.Net.TLS.Config = true, tlsConfig
//	cfg.Net.SASL.Enable = true
//	cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
//	cfg.Net.SASL.User, cfg.Net.SASL.Password = user, pass
//	cfg.Producer.Compression = sarama.CompressionZSTD
//
//	tr, err := saramatransport.New([]string{"broker-1:9092", "broker-2:9092"}, cfg)
//	if err != nil {
//		return err
//	}
//	defer tr.Close()
//
//	services, err := ktables.Open(ctx, tr, "services", ktables.JSON[Service]())
//	if err != nil {
//		return err
//	}
//	defer services.Close()
//	svc, ok := services.Get("billing")
//
// Or wrap a client you already have; the transport never closes it:
//
//	tr, err := saramatransport.NewFromClient(client)
//
// [Transport.As] reaches the native sarama.Client and sarama.ClusterAdmin.
//
// # Configuration
//
// The transport works on a copy of the caller's config and changes only
// what the core depends on (see [New]): the manual partitioner (the core
// chooses partitions with Java's murmur2, never sarama's FNV-1a hash),
// Producer.Return.Successes and Errors (Produce returns the offset), and a
// dialer of its own through Net.Proxy (wrapping the caller's). Clients
// connect on first use, under that call's context. Config.Version must be at least 2.1 ([MinVersion]); New says
// so, naming the setting, when it is older. [NewConfig] is sarama's default
// config with acks=all, no idempotence, no compression and read uncommitted
// (the portable defaults of every adapter, ADR 8); [SetDurability] applies
// a transport.Durability.
//
// # How calls map to sarama
//
//   - Metadata, ListOffsets and admin requests (CreateTopics,
//     DescribeConfigs, IncrementalAlterConfigs, CreatePartitions) go through
//     the main client and its ClusterAdmin. Partitions is one Metadata
//     request (sarama's client retries unknown topics for seconds).
//   - EndOffsets and StartOffsets are one ListOffsets request per partition
//     leader on the main client's connections. sarama holds a broker
//     connection's lock for a whole request, so a ListOffsets on a
//     connection with a long-poll fetch in flight waits for the fetch
//     (measured ~0.9 s, SPEC §12); fetch sessions therefore never use the
//     main client's connections (SPEC X2, B4). Measured on kfake during a
//     2 s long poll: about 1 ms.
//   - Each fetch session (one per table) is a raw fetch loop over
//     connections of its own, one per partition leader: sarama.FetchRequest
//     v10/v11 with MaxWaitTime from FetchOptions.MaxWait (default 500 ms)
//     and the config's isolation level, kept in flight between polls. The
//     next position is computed for every record batch, control or not
//     (base offset + last offset delta + 1), so positions move past
//     transaction markers, aborted batches and compaction holes, where
//     sarama's high-level consumer can stall before trailing control
//     records. A position out of the log is reported as
//     transport.ErrOffsetOutOfRange and the core moves it.
//   - Produce sends to the record's explicit partition through a sarama
//     AsyncProducer on a client of its own, one reply channel per message;
//     concurrent calls are batched into shared produce requests. A nil value
//     is produced as a null value (tombstone), an empty one as an empty value,
//     and both come back that way (sarama encodes a nil slice as length -1
//     and decodes -1 as nil, 0 as an empty slice).
//
// # Read committed
//
// With Config.Consumer.IsolationLevel = sarama.ReadCommitted (not the
// default of [NewConfig], which reads uncommitted like every adapter and
// the Python library), fetches skip aborted transactions (using the aborted
// transactions the broker lists in each fetch response) and EndOffsets lists
// last stable offsets, so a reader that has consumed everything it can see
// has reached its end offsets. With sarama.ReadUncommitted (the default of
// NewConfig and of sarama), records of aborted transactions are delivered
// like any others.
//
// # Contexts
//
// sarama's calls take no context. The transport runs them so that a done
// context returns its error at once; the abandoned call ends by sarama's
// own timeouts, or at once when the transport (or fetch session) is closed,
// because Close closes the sockets under it.
//
// # Recovery from network faults
//
// [NewConfig] shortens sarama's timeouts ([DefaultReadTimeout] and the
// others) so that a connection gone silent, as in a network partition, is
// given up within seconds rather than 30 s, and when one connection to a
// broker times out, the transport's other connections to that broker that
// were silent as long are closed with it (transport.SilenceWatch), so that
// writes and barriers resume within seconds of the network healing. A peer
// that answers but is not Kafka (a web server on a mistyped port) is
// recognized by its first bytes before sarama allocates the size they
// announce, and retried with the core's backoff.
//
// # Errors
//
// Errors are *transport.Error values: errors.Is matches the kind
// (transport.ErrAuthorization, transport.ErrUnknownTopic, ...) and the
// class (transport.ErrRetriable, transport.ErrFatal), and errors.As reaches
// the native error, usually a sarama.KError (also inside *sarama.TopicError
// and sarama's wrapped errors). When the caller's context ends, its error is
// returned, annotated with the last connection failure when there was one
// ("context deadline exceeded (last error: ...)", a
// *transport.ContextError that still matches context.DeadlineExceeded).
// A record larger than Producer.MaxMessageBytes fails with
// transport.ErrRecordTooLarge (fatal), like the broker's MESSAGE_TOO_LARGE.
//
// A wrong SASL password fails with transport.ErrAuthentication, also against
// brokers that close the connection instead of answering
// SASL_AUTHENTICATION_FAILED (Kafka before 1.0, kfake): the transport's
// dialer watches the SASL exchanges of plaintext connections it opens.
// Behind TLS, or on the connections of a caller's client given to
// NewFromClient, such brokers' rejections look like network errors
// (retriable); Kafka 1.0 and later answer with an error code, which is
// always recognized.
package saramatransport
