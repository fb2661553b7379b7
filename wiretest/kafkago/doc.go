// Package kafkagowire runs the over-the-wire tests of transport_kafkago: see
// package wiretest.
package kafkagowire
