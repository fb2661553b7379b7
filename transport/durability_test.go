package transport_test

import (
	"errors"
	"testing"

	"github.com/ktables/ktables/transport"
)

// SPEC W2, W4: the zero Durability is the portable default (acks=all, no
// idempotence); idempotence without acks=all and unknown acks are config
// errors.
func TestDurabilityW2Validate(t *testing.T) {
	var zero transport.Durability
	if zero.Acks != transport.AcksAll || zero.Idempotent || zero.Validate() != nil {
		t.Fatalf("W4 zero value: %+v %v", zero, zero.Validate())
	}
	for _, d := range []transport.Durability{
		{Acks: transport.AcksAll, Idempotent: true},
		{Acks: transport.AcksLeader},
		{Acks: transport.AcksNone},
	} {
		if err := d.Validate(); err != nil {
			t.Errorf("%+v: %v", d, err)
		}
	}
	for _, d := range []transport.Durability{
		{Acks: transport.AcksLeader, Idempotent: true},
		{Acks: transport.AcksNone, Idempotent: true},
		{Acks: 7},
	} {
		if err := d.Validate(); !errors.Is(err, transport.ErrInvalidConfig) || transport.IsRetriable(err) {
			t.Errorf("%+v: %v", d, err)
		}
	}
	if transport.AcksLeader.String() != "leader" || transport.Acks(9).String() != "Acks(9)" {
		t.Error(transport.AcksLeader, transport.Acks(9))
	}
}
