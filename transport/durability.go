package transport

import "fmt"

// Acks is how many replicas must acknowledge a produced record before the
// broker answers (the producer's acks setting).
type Acks int8

const (
	// AcksAll waits for every in-sync replica (acks=all, -1): an
	// acknowledged write survives the loss of the leader. The zero value
	// and the default of every adapter.
	AcksAll Acks = iota
	// AcksLeader waits for the partition leader only (acks=1): a write the
	// leader acknowledged is lost if it fails before a follower copied it.
	AcksLeader
	// AcksNone does not wait (acks=0): Produce returns once the request is
	// sent, with offset -1, and a write can be lost silently.
	AcksNone
)

func (a Acks) String() string {
	switch a {
	case AcksAll:
		return "all"
	case AcksLeader:
		return "leader"
	case AcksNone:
		return "none"
	}
	return fmt.Sprintf("Acks(%d)", int8(a))
}

// Durability is the portable produce durability every adapter honours
// (SPEC W2, W4), mapped onto its native producer config. The zero value is
// the default: acks=all, no idempotence — at-least-once writes that every
// Kafka-compatible broker accepts, since an idempotent producer needs
// InitProducerID (and, before Kafka 3.0, the IDEMPOTENT_WRITE ACL), which
// some brokers and deployments lack.
type Durability struct {
	Acks Acks
	// Idempotent asks the producer for broker-side de-duplication of
	// retried requests. It needs Acks == AcksAll (Kafka's rule) and a
	// broker that supports idempotent producers. Opt-in; adapters whose
	// client has no idempotent producer (kafka-go) reject it.
	Idempotent bool
}

// Validate reports an unknown Acks value or idempotence without acks=all,
// as an error matching ErrInvalidConfig.
func (d Durability) Validate() error {
	if d.Acks < AcksAll || d.Acks > AcksNone {
		return NewError("new", "", ErrInvalidConfig, fmt.Errorf("durability: unknown acks %s", d.Acks))
	}
	if d.Idempotent && d.Acks != AcksAll {
		return NewError("new", "", ErrInvalidConfig, fmt.Errorf("durability: idempotence needs acks=all, got acks=%s", d.Acks))
	}
	return nil
}
