package kafkagotransport

import (
	"errors"

	"github.com/segmentio/kafka-go"

	"github.com/ktables/ktables/transport"
)

// WithDurability applies the portable transport.Durability: its Acks set
// the acknowledgement Produce waits for, as [WithRequiredAcks] does (the
// default, like every adapter's, is acks=all). kafka-go has no idempotent
// producer (no InitProducerID, no sequence numbers), so Idempotent is
// rejected: New fails with an error matching transport.ErrInvalidConfig
// rather than writing without the de-duplication that was asked for.
func WithDurability(d transport.Durability) Option {
	return func(c *config) error {
		if err := d.Validate(); err != nil {
			return err
		}
		if d.Idempotent {
			return errors.New("kafkagotransport: kafka-go has no idempotent producer; use Durability{Idempotent: false} or another adapter")
		}
		switch d.Acks {
		case transport.AcksAll:
			c.acks = kafka.RequireAll
		case transport.AcksLeader:
			c.acks = kafka.RequireOne
		case transport.AcksNone:
			c.acks = kafka.RequireNone
		}
		return nil
	}
}
