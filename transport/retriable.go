package transport

// KafkaRetriable reports the protocol's own retriable flag for an error
// code (the RetriableException subclasses of the Java client), for clients
// whose errors do not carry it (sarama). It is the fallback for codes
// KafkaCode does not list; for those it does list, KafkaCode decides.
func KafkaRetriable(code int16) bool { return kafkaRetriable[code] }

// kafkaRetriable: CORRUPT_MESSAGE 2, UNKNOWN_TOPIC_OR_PARTITION 3,
// LEADER_NOT_AVAILABLE 5, NOT_LEADER_OR_FOLLOWER 6, REQUEST_TIMED_OUT 7,
// REPLICA_NOT_AVAILABLE 9, NETWORK_EXCEPTION 13,
// COORDINATOR_LOAD_IN_PROGRESS 14, COORDINATOR_NOT_AVAILABLE 15,
// NOT_COORDINATOR 16, NOT_ENOUGH_REPLICAS 19,
// NOT_ENOUGH_REPLICAS_AFTER_APPEND 20, NOT_CONTROLLER 41,
// CONCURRENT_TRANSACTIONS 51, KAFKA_STORAGE_ERROR 56,
// FETCH_SESSION_ID_NOT_FOUND 70, INVALID_FETCH_SESSION_EPOCH 71,
// LISTENER_NOT_FOUND 72, FENCED_LEADER_EPOCH 74, UNKNOWN_LEADER_EPOCH 75,
// OFFSET_NOT_AVAILABLE 78, PREFERRED_LEADER_NOT_AVAILABLE 80,
// ELIGIBLE_LEADERS_NOT_AVAILABLE 83, UNSTABLE_OFFSET_COMMIT 88,
// THROTTLING_QUOTA_EXCEEDED 89.
var kafkaRetriable = map[int16]bool{
	2: true, 3: true, 5: true, 6: true, 7: true, 9: true, 13: true, 14: true, 15: true, 16: true,
	19: true, 20: true, 41: true, 51: true, 56: true, 70: true, 71: true, 72: true, 74: true,
	75: true, 78: true, 80: true, 83: true, 88: true, 89: true,
}
