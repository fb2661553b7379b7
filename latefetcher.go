package ktables

import (
	"context"
	"maps"

	"github.com/ktables/ktables/transport"
)

// lateFetcher stands in for a fetcher that Open could not start before
// its catch-up timeout although it had read the offsets (issue 16.12): the
// table opens Degraded, as documented, and the reader's first Polls create
// the real fetcher, their errors going through the reader's usual retry
// and failure handling.
type lateFetcher struct {
	tr    transport.Transport
	topic string
	opts  transport.FetchOptions
	start map[int32]int64 // positions to start from, updated by Assign
	f     transport.Fetcher
}

func newLateFetcher(tr transport.Transport, topic string, start map[int32]int64, opts transport.FetchOptions) *lateFetcher {
	return &lateFetcher{tr: tr, topic: topic, opts: opts, start: maps.Clone(start)}
}

func (l *lateFetcher) Assign(positions map[int32]int64) error {
	if l.f != nil {
		return l.f.Assign(positions)
	}
	maps.Copy(l.start, positions)
	return nil
}

func (l *lateFetcher) Poll(ctx context.Context) (transport.Batch, error) {
	if l.f == nil {
		f, err := l.tr.NewFetcher(ctx, l.topic, l.start, l.opts)
		if err != nil {
			return transport.Batch{}, err
		}
		l.f, l.start = f, nil
	}
	return l.f.Poll(ctx)
}

func (l *lateFetcher) Close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}
