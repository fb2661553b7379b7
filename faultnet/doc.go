// Package faultnet is a loopback TCP proxy that injects network faults, for
// testing clients of a server (here: Kafka clients of an in-process broker)
// under resets, blackholes, refused connections, latency, slow drip,
// mid-stream closes and silent partitions.
//
// A [Proxy] listens on 127.0.0.1 and forwards every accepted connection to a
// target address. Faults are switched at runtime with [Proxy.Set], per
// direction of the connection ([ToServer], [ToClient] or [Both]), and apply
// at once to live connections and to new ones; [Proxy.Heal] switches them
// all off:
//
//	p, _ := faultnet.New("127.0.0.1:9092")
//	defer p.Close()
//	p.Set(faultnet.Both, faultnet.Fault{Mode: faultnet.Partition}) // silent partition
//	// ... clients of p.Addr() hang ...
//	p.Heal() // new connections flow; those open during it stay silent
//
// # Servers that advertise their own address
//
// A Kafka broker tells its clients where to connect (the metadata response),
// so a proxy in front of the bootstrap address alone is bypassed after the
// first request. [Network.Listen] has the signature of [net.Listen] and is
// meant for servers that let you choose how they listen (kfake's ListenFn
// option): the server listens on a private loopback port, and the listener it
// gets back reports the proxy's address, so the server advertises the proxy
// and every client connection goes through it.
//
// # Modes
//
// Each [Mode] says what happens to bytes flowing in one direction:
//
//   - [Pass] forwards them (the default).
//   - [Reset] resets the connection (TCP RST to both peers) when bytes
//     arrive, instead of forwarding them.
//   - [Blackhole] reads and discards them: the sender's writes succeed, no
//     answer ever comes, the connection stays open.
//   - [Partition] is a silent network partition. Connections open when it
//     starts are stranded in that direction for good: their bytes are
//     discarded, now and after the partition ends, and the proxy never
//     closes them, as when a middlebox loses a connection's state. Only a
//     client's own timeouts notice. Connections opened during the partition
//     hang (their bytes are held, unread beyond a small buffer) and flow
//     once it ends.
//   - [Latency] delays each chunk by Fault.Delay, keeping order.
//   - [Drip] forwards Fault.Bytes bytes (default 1) every Fault.Delay.
//   - [CloseAfter] forwards Fault.Bytes more bytes per connection, then
//     closes the connection (a server dying mid-response).
//   - [Refuse] concerns new connections, whatever the direction: the proxy
//     stops listening, so dialling its address fails with "connection
//     refused"; live connections keep going (those still in the listen
//     backlog, not yet accepted, are reset). The proxy listens on the same
//     port again when no direction is set to Refuse.
//
// Faults are meant for tests on one machine; nothing here is tuned for
// throughput.
package faultnet
