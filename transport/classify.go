package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Classifier maps a native client error to a kind (one of this package's
// sentinels, or nil when unknown) and a class.
type Classifier func(native error) (kind error, retriable bool)

// Wrap is how adapters return errors: nil for nil; ctx's own error when ctx
// is done (a caller's cancellation is never wrapped away); an error that is
// already a *Error unchanged; otherwise a *Error carrying op, topic, the kind
// and class classify gives, and the native error for errors.As.
func Wrap(ctx context.Context, op, topic string, err error, classify Classifier) error {
	if err == nil {
		return nil
	}
	if ctx != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
	}
	if _, ok := errors.AsType[*Error](err); ok {
		return err
	}
	kind, retriable := classify(err)
	e := NewError(op, topic, kind, err)
	e.Retriable = retriable
	return e
}

// IsNetworkError reports errors of the connection rather than the broker:
// EOF, resets, refused or closed connections, timeouts of the socket. They
// are transient (ErrBrokerUnavailable) for every client.
func IsNetworkError(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	_, ok := errors.AsType[*os.SyscallError](err)
	return ok
}

// KafkaCode maps a Kafka protocol error code to a kind and class, the same
// for every client, since the codes are the protocol's. known is false for
// codes this table does not list; the adapter then falls back to its
// client's own retriable flag.
//
//lint:ignore ST1008 kind is a classification to wrap, not a failure of KafkaCode
func KafkaCode(code int16) (kind error, retriable, known bool) {
	c, ok := kafkaCodes[code]
	return c.kind, c.retriable, ok
}

type codeClass struct {
	kind      error
	retriable bool
}

// kafkaCodes lists the codes that matter to ktables, with the retriable flag
// the Kafka protocol gives them (org.apache.kafka.common.protocol.Errors),
// except UNKNOWN_TOPIC_OR_PARTITION: Kafka calls it retriable, but for a
// table reading a topic that is gone it is fatal (SPEC L2); the core
// retries it at open, right after creating the topic, where it is transient.
var kafkaCodes = map[int16]codeClass{
	1:   {ErrInvalidRequest, false},   // OFFSET_OUT_OF_RANGE
	2:   {nil, true},                  // CORRUPT_MESSAGE
	3:   {ErrUnknownTopic, false},     // UNKNOWN_TOPIC_OR_PARTITION
	5:   {ErrNotLeader, true},         // LEADER_NOT_AVAILABLE
	6:   {ErrNotLeader, true},         // NOT_LEADER_OR_FOLLOWER
	7:   {ErrTimeout, true},           // REQUEST_TIMED_OUT
	8:   {ErrBrokerUnavailable, true}, // BROKER_NOT_AVAILABLE
	9:   {ErrNotLeader, true},         // REPLICA_NOT_AVAILABLE
	10:  {ErrRecordTooLarge, false},   // MESSAGE_TOO_LARGE
	13:  {ErrBrokerUnavailable, true}, // NETWORK_EXCEPTION
	14:  {ErrBrokerUnavailable, true}, // COORDINATOR_LOAD_IN_PROGRESS
	15:  {ErrBrokerUnavailable, true}, // COORDINATOR_NOT_AVAILABLE
	17:  {ErrInvalidRequest, false},   // INVALID_TOPIC_EXCEPTION
	18:  {ErrRecordTooLarge, false},   // RECORD_LIST_TOO_LARGE
	19:  {ErrBrokerUnavailable, true}, // NOT_ENOUGH_REPLICAS
	20:  {ErrBrokerUnavailable, true}, // NOT_ENOUGH_REPLICAS_AFTER_APPEND
	21:  {ErrInvalidConfig, false},    // INVALID_REQUIRED_ACKS
	29:  {ErrAuthorization, false},    // TOPIC_AUTHORIZATION_FAILED
	30:  {ErrAuthorization, false},    // GROUP_AUTHORIZATION_FAILED
	31:  {ErrAuthorization, false},    // CLUSTER_AUTHORIZATION_FAILED
	33:  {ErrAuthentication, false},   // UNSUPPORTED_SASL_MECHANISM
	34:  {ErrAuthentication, false},   // ILLEGAL_SASL_STATE
	35:  {ErrUnsupported, false},      // UNSUPPORTED_VERSION
	36:  {ErrTopicExists, false},      // TOPIC_ALREADY_EXISTS
	37:  {ErrInvalidRequest, false},   // INVALID_PARTITIONS
	38:  {ErrInvalidRequest, false},   // INVALID_REPLICATION_FACTOR
	40:  {ErrInvalidConfig, false},    // INVALID_CONFIG
	41:  {ErrNotLeader, true},         // NOT_CONTROLLER
	42:  {ErrInvalidRequest, false},   // INVALID_REQUEST
	43:  {ErrUnsupported, false},      // UNSUPPORTED_FOR_MESSAGE_FORMAT
	44:  {ErrInvalidConfig, false},    // POLICY_VIOLATION
	53:  {ErrAuthorization, false},    // TRANSACTIONAL_ID_AUTHORIZATION_FAILED
	56:  {ErrBrokerUnavailable, true}, // KAFKA_STORAGE_ERROR
	58:  {ErrAuthentication, false},   // SASL_AUTHENTICATION_FAILED
	74:  {ErrNotLeader, true},         // FENCED_LEADER_EPOCH
	75:  {ErrNotLeader, true},         // UNKNOWN_LEADER_EPOCH
	76:  {ErrUnsupported, false},      // UNSUPPORTED_COMPRESSION_TYPE
	78:  {ErrNotLeader, true},         // OFFSET_NOT_AVAILABLE
	87:  {ErrInvalidRequest, false},   // INVALID_RECORD
	89:  {ErrBrokerUnavailable, true}, // THROTTLING_QUOTA_EXCEEDED
	100: {ErrUnknownTopic, false},     // UNKNOWN_TOPIC_ID
}
