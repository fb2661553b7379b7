package transport_test

import (
	"errors"
	"io"
	"testing"

	"github.com/ktables/ktables/transport"
)

func TestSASLFailures(t *testing.T) {
	var nilWatch *transport.SASLFailures
	if nilWatch.Blamed() {
		t.Fatal("an unwatched transport blamed the credentials")
	}
	var f transport.SASLFailures
	if f.Failed() || f.Blamed() {
		t.Fatal("one broken exchange blamed the credentials")
	}
	if !f.Failed() || !f.Blamed() {
		t.Fatalf("%d broken exchanges in a row did not blame the credentials", transport.SASLFailThreshold)
	}
	f.Succeeded()
	if f.Blamed() {
		t.Fatal("an authenticated connection did not clear the blame")
	}
	err := &transport.SASLClosedError{Err: io.ErrUnexpectedEOF}
	if !errors.Is(err, io.ErrUnexpectedEOF) || err.Error() == "" {
		t.Fatalf("SASLClosedError: %v", err)
	}
}
