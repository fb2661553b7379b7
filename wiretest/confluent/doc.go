// Package confluentwire runs the over-the-wire tests of transport_confluent
// (cgo: its tests build only with CGO_ENABLED=1): see package wiretest.
package confluentwire
