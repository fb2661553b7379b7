package memtransport

import "time"

// ClusterOption configures a [Cluster].
type ClusterOption func(*config)

type config struct {
	fetchWait         time.Duration
	autoCreate        bool
	defaultPartitions int32
	maxPollRecords    int
	maxPollBytes      int
}

func defaultConfig() config {
	return config{
		fetchWait:         500 * time.Millisecond, // Kafka's fetch.max.wait.ms
		defaultPartitions: 1,                      // Kafka's num.partitions
		maxPollRecords:    4096,
		maxPollBytes:      50 << 20, // Kafka's fetch.max.bytes
	}
}

// WithDefaultFetchWait sets the long-poll wait of fetchers whose
// FetchOptions.MaxWait is zero. The default is 500 ms, Kafka's
// fetch.max.wait.ms. Non-positive values keep the default.
func WithDefaultFetchWait(d time.Duration) ClusterOption {
	return func(c *config) {
		if d > 0 {
			c.fetchWait = d
		}
	}
}

// WithAutoCreateTopics makes client calls on an unknown topic create it with
// the default partition count, like a broker with auto.create.topics.enable.
// Off by default, like kfake and most production clusters, so that tests
// notice a missing topic.
func WithAutoCreateTopics(enable bool) ClusterOption {
	return func(c *config) { c.autoCreate = enable }
}

// WithDefaultPartitions sets the partition count of auto-created topics.
// Non-positive values keep the default of 1.
func WithDefaultPartitions(n int32) ClusterOption {
	return func(c *config) {
		if n > 0 {
			c.defaultPartitions = n
		}
	}
}

// WithMaxPollRecords caps the records one Poll returns (default 4096), so
// that a long log is delivered in batches like a real fetch. Non-positive
// values keep the default.
func WithMaxPollRecords(n int) ClusterOption {
	return func(c *config) {
		if n > 0 {
			c.maxPollRecords = n
		}
	}
}
