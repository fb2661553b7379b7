package transport

import "sync/atomic"

// SASL credentials rejected by a broker that closes the connection instead
// of answering SASL_AUTHENTICATION_FAILED (Kafka before 1.0, kfake) look to
// a client like a network fault, which is retriable: a wrong password would
// look like an unreachable broker until every deadline passed. Adapters
// watch their clients' SASL exchanges, each the way its client allows, and
// blame the credentials after SASLFailThreshold broken exchanges in a row;
// what they share lives here.

// SASLFailThreshold is how many SASL exchanges in a row must break off
// (the connection died during authentication, with no authenticated
// connection since) before network errors are blamed on the credentials.
const SASLFailThreshold = 2

// SASLFailures counts SASL exchanges broken off in a row. It is safe for
// concurrent use; the zero value counts none.
type SASLFailures struct{ n atomic.Int32 }

// Failed counts a broken exchange and reports whether the credentials are
// now blamed.
func (f *SASLFailures) Failed() bool { return f.n.Add(1) >= SASLFailThreshold }

// Succeeded resets the count: an authenticated connection works.
func (f *SASLFailures) Succeeded() { f.n.Store(0) }

// Blamed reports whether SASLFailThreshold exchanges in a row broke off;
// false for a nil receiver (SASL not watched).
func (f *SASLFailures) Blamed() bool { return f != nil && f.n.Load() >= SASLFailThreshold }

// SASLClosedError is the native error of an authentication failure that an
// adapter inferred from broken SASL exchanges; Err is the network error the
// client saw. Adapters return it inside an *Error of kind ErrAuthentication.
type SASLClosedError struct{ Err error }

func (e *SASLClosedError) Error() string {
	return "SASL authentication failed: the broker closed the connection during authentication (are the credentials or mechanism wrong?): " + e.Err.Error()
}

func (e *SASLClosedError) Unwrap() error { return e.Err }
