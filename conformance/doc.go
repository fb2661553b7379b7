// Package conformance checks a transport — or a whole cluster — against the
// behaviour ktables relies on. One suite runs against every adapter
// (franz-go, sarama, kafka-go), against memtransport, and against your own
// cluster, so "it works with ktables" means the same thing everywhere.
//
// # Running it
//
// Write a Harness: a constructor of transports and the Features the system
// under test has. Then call Run from a test (from the package Example):
//
//	// memHarness runs the suite on one in-memory cluster: every case gets a
//	// client of it, as a process would.
//	type memHarness struct{ c *memtransport.Cluster }
//
//	func (h memHarness) NewTransport(context.Context) (transport.Transport, error) {
//		return h.c.Transport(), nil
//	}
//
//	func (h memHarness) Features() conformance.Features {
//		return conformance.Features{TopicConfig: true, CreatePartitions: true, SecondProcess: true}
//	}
//
//	func TestConformance(t *testing.T) {
//		c := memtransport.NewCluster()
//		t.Cleanup(func() { c.Close() })
//		conformance.Run(t, memHarness{c})
//	}
//
// For a Kafka transport, package github.com/ktables/ktables/kafkatest
// (module of its own) has the Harness: kafkatest.NewHarness runs the suite
// over kfake, an in-process broker, with compaction, transactions and fault
// injection, or over the cluster named by KTABLES_BROKERS. Its example runs
// the whole suite over a transport defined outside this repository.
//
// RunTransport runs only the transport contract (SPEC 11 and the record
// rules of SPEC 2); RunTable runs the core library over the transport (SPEC
// 2 to 9). Each case is a subtest named after the clause it checks, such as
// "X3/fetch_returns_records_in_offset_order", so
//
//	go test -run 'TestConformance/transport/X3/' ./...
//
// runs one clause, and every failure starts with the clause: "SPEC X3: ...".
//
// # What a case gets
//
// Each case gets its own transport from NewTransport (closed when it ends),
// its own topics (named from the test name, a per-run id and a counter, so
// runs against a shared cluster never collide), and a deadline (30 s,
// see Tuning). Cases run in parallel, except those marked Serial. A
// transport that ignores its context cannot hang the suite: a case that
// outlives its deadline by far ends the test binary with a goroutine dump.
//
// # Features
//
// A Feature the harness lacks skips the cases that need it, saying which
// and why; nothing else skips. Capabilities that need the broker's help
// rather than the transport's are optional harness interfaces: Compactor
// (compact on demand), Transactor (write transactional batches, to produce
// control records and aborted data) and FaultInjector (make the broker
// fail). Tuner adapts the clocks to a slow or remote cluster.
//
// # Using single cases
//
// TransportCases and TableCases return the cases; RunCases runs any
// selection, and Case.Run runs one under any T — which is how this package
// tests that its cases fail broken transports.
package conformance
