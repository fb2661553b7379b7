// Package saramawire runs the over-the-wire tests of transport_sarama: see
// package wiretest.
package saramawire
