// Package franzwire runs the over-the-wire tests of transport_franz: see
// package wiretest.
package franzwire
