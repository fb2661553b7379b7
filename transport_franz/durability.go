package franztransport

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables/transport"
)

// portableDefaults are New's options before the caller's (which win): no
// linger (a writer waits for each ack), acks=all and no compression (SPEC
// W4). Idempotence is decided by newProducingClient, since kgo has an
// option to disable it but none to enable it again.
func portableDefaults(seeds []string) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ProducerLinger(0),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	}
}

// Durability returns the kgo options for d, to pass to [New] among the
// others (later options win, so put them after any kgo.RequiredAcks of
// your own):
//
//	opts, err := franztransport.Durability(transport.Durability{Idempotent: true})
//	tr, err := franztransport.New(seeds, opts...)
//
// Idempotence is opt-in: New disables kgo's idempotent producer unless
// these options ask for it. An invalid d (see transport.Durability.Validate)
// is an error matching transport.ErrInvalidConfig. A client given to
// [NewFromClient] keeps its own producer settings; kgo's defaults there
// are idempotence on and snappy compression.
func Durability(d transport.Durability) ([]kgo.Opt, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	acks := kgo.AllISRAcks()
	switch d.Acks {
	case transport.AcksLeader:
		acks = kgo.LeaderAck()
	case transport.AcksNone:
		acks = kgo.NoAck()
	}
	opts := []kgo.Opt{kgo.RequiredAcks(acks)}
	if d.Idempotent {
		opts = append(opts, kgo.WithHooks(idempotenceOptIn{}))
	}
	return opts, nil
}

// idempotenceOptIn marks, among the options, that the caller asked for
// idempotence. It is a kgo hook (kgo accepts only hooks of a known kind)
// that does nothing.
type idempotenceOptIn struct{}

// OnNewClient implements kgo.HookNewClient; it does nothing.
func (idempotenceOptIn) OnNewClient(*kgo.Client) {}

func wantsIdempotence(cl *kgo.Client) bool {
	hooks, _ := cl.OptValue(kgo.WithHooks).([]kgo.Hook)
	return slices.ContainsFunc(hooks, func(h kgo.Hook) bool {
		_, ok := h.(idempotenceOptIn)
		return ok
	})
}

// newProducingClient builds New's client with idempotence disabled unless
// opts opt into it. A client kgo refuses without idempotence (one with a
// transactional id) is built as given, so that New reports the real reason.
func newProducingClient(opts []kgo.Opt) (*kgo.Client, error) {
	cl, err := kgo.NewClient(slices.Concat(opts, []kgo.Opt{kgo.DisableIdempotentWrite()})...)
	if err != nil {
		return kgo.NewClient(opts...)
	}
	if wantsIdempotence(cl) {
		cl.Close()
		return kgo.NewClient(opts...)
	}
	return cl, nil
}
