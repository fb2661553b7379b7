package kafkagotransport

import (
	"cmp"
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/listoffsets"

	"github.com/ktables/ktables/transport"
)

// ListOffsets per leader (issue 16 item 10). kafka-go's Client.ListOffsets
// splits a request into one request per partition and routes each by
// scanning every partition of the topic: quadratic, 12 s of CPU for 30,000
// partitions, which made Open overrun its context (and take minutes for
// 100,000). The adapter sends one request per leader instead, each with
// all of that leader's partitions (up to offsetsChunk), routed by a scan of
// the cached metadata per request rather than per partition.

// offsetsChunk bounds the partitions of one ListOffsets request (about
// 16 bytes each on the wire).
const offsetsChunk = 10000

// leaderOffsets is listoffsets.Request without its Split method, so that
// kafka-go's Transport sends it as one request; Broker routes it to the
// leader of its first partition, which leads every partition in it when
// the request was built. Same layout as listoffsets.Request, which kafka-go
// encodes it as (by its API key and field layout).
type leaderOffsets listoffsets.Request

func (r *leaderOffsets) ApiKey() protocol.ApiKey { return protocol.ListOffsets }

func (r *leaderOffsets) Broker(cluster protocol.Cluster) (protocol.Broker, error) {
	rt := r.Topics[0]
	want := rt.Partitions[0].Partition
	for _, p := range cluster.Topics[rt.Topic].Partitions {
		if p.ID == want {
			if b, ok := cluster.Brokers[p.Leader]; ok {
				return b, nil
			}
			break
		}
	}
	// Unknown to the cache: kafka-go answers with its own routing error,
	// which the caller treats like any unknown partition.
	return protocol.Broker{ID: -1}, fmt.Errorf("partition %d of %q: %w", want, rt.Topic, protocol.ErrNoLeader)
}

var (
	_ protocol.BrokerMessage = (*leaderOffsets)(nil)
)

// listOffsetsByLeader lists the offsets at ts (kafka.FirstOffset or
// kafka.LastOffset) of partitions of topic: one request per leader (and
// chunk), in parallel.
func (t *Transport) listOffsetsByLeader(ctx context.Context, topic string, partitions []int32, ts int64, committed bool) (map[int32]int64, error) {
	mt, err := t.cachedTopic(ctx, topic)
	if err != nil {
		return nil, err
	}
	leader := make(map[int32]int32, len(mt.Partitions))
	for _, p := range mt.Partitions {
		leader[int32(p.ID)] = int32(p.Leader.ID)
	}
	byLeader := make(map[int32][]listoffsets.RequestPartition)
	for _, p := range partitions {
		l, ok := leader[p]
		if !ok {
			return nil, fmt.Errorf("partition %d: %w", p, errNoPartition)
		}
		byLeader[l] = append(byLeader[l], listoffsets.RequestPartition{Partition: p, CurrentLeaderEpoch: -1, Timestamp: ts})
	}
	var reqs []*leaderOffsets
	for _, ps := range byLeader {
		for len(ps) > 0 {
			n := min(len(ps), offsetsChunk)
			req := &leaderOffsets{ReplicaID: -1, Topics: []listoffsets.RequestTopic{{Topic: topic, Partitions: ps[:n]}}}
			if committed {
				req.IsolationLevel = int8(kafka.ReadCommitted)
			}
			reqs = append(reqs, req)
			ps = ps[n:]
		}
	}

	out := make(map[int32]int64, len(partitions))
	var first error
	for _, r := range transport.Gather(reqs, func(req *leaderOffsets) (*listoffsets.Response, error) {
		m, err := t.rt.RoundTrip(ctx, t.cl.Addr, req) // ends by ctx's deadline
		if err != nil {
			return nil, err
		}
		resp, ok := m.(*listoffsets.Response)
		if !ok {
			return nil, fmt.Errorf("kafkagotransport: ListOffsets answered with %T", m)
		}
		return resp, nil
	}, nil, nil) {
		if r.Err != nil {
			first = cmp.Or(first, r.Err)
			continue
		}
		for _, rt := range r.V.Topics {
			if rt.Topic != topic {
				continue
			}
			for _, p := range rt.Partitions {
				if p.ErrorCode != 0 {
					first = cmp.Or(first, error(kafka.Error(p.ErrorCode)))
					continue
				}
				out[p.Partition] = p.Offset
			}
		}
	}
	if first != nil {
		return nil, first
	}
	for _, p := range partitions {
		if _, ok := out[p]; !ok {
			return nil, fmt.Errorf("partition %d missing from ListOffsets response: %w", p, kafka.UnknownTopicOrPartition)
		}
	}
	return out, nil
}
