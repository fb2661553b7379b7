package transport_test

import (
	"testing"

	"github.com/ktables/ktables/transport"
)

type session struct {
	ss     *transport.Sessions
	closed int
}

func (s *session) Close() error { s.closed++; s.ss.Remove(s); return nil }

func TestSessions(t *testing.T) {
	var ss transport.Sessions
	a, b := &session{ss: &ss}, &session{ss: &ss}
	if ss.Closed() || !ss.Add(a) || !ss.Add(b) {
		t.Fatal("an open Sessions refused a session")
	}
	_ = b.Close() // closed on its own: not closed again below
	if !ss.Close() || !ss.Closed() {
		t.Fatal("first Close")
	}
	if a.closed != 1 || b.closed != 1 {
		t.Fatalf("closes: a %d, b %d; want 1 each", a.closed, b.closed)
	}
	if ss.Close() || a.closed != 1 {
		t.Fatal("second Close acted again")
	}
	if late := (&session{ss: &ss}); ss.Add(late) {
		t.Fatal("Add after Close accepted")
	}
}
