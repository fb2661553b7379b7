package transport

// Counts returns the partition count and replication factor to send in a
// CreateTopics request for s: at least one partition, and -1 (the broker's
// default.replication.factor, CreateTopics v4+) for a factor of zero or
// less.
func (s TopicSpec) Counts() (partitions int32, replicationFactor int16) {
	partitions, replicationFactor = s.Partitions, s.ReplicationFactor
	if partitions <= 0 {
		partitions = 1
	}
	if replicationFactor <= 0 {
		replicationFactor = -1
	}
	return partitions, replicationFactor
}

// ConfigSourceOf maps the config source code of a DescribeConfigs answer
// (Kafka's ConfigSource: 1 dynamic topic, 2 dynamic broker, 3 dynamic
// default broker, 4 static broker, 5 default) to a ConfigSource.
// DescribeConfigs v0 has no source, only IsDefault: code 0 with isDefault
// is a default.
func ConfigSourceOf(code int8, isDefault bool) ConfigSource {
	switch code {
	case 1:
		return SourceTopic
	case 2, 3:
		return SourceBrokerDynamic
	case 4:
		return SourceBrokerStatic
	case 5:
		return SourceDefault
	case 0:
		if isDefault {
			return SourceDefault
		}
	}
	return SourceUnknown
}
