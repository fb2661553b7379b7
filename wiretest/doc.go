// Package wiretest holds the adapters' over-the-wire tests: the conformance
// suite, kafkatest.RunReliability and kafkatest.RunAdapterChecks over each
// adapter against the in-process kfake broker (or KTABLES_BROKERS), and the
// adapter-specific tests that steer the broker.
//
// It is a module of its own so that the adapters' go.mod files require only
// their Kafka client and the root module: an application that uses
// transport_sarama or transport_kafkago never sees franz-go or kfake in its
// module graph. Nothing here is meant to be imported.
package wiretest
