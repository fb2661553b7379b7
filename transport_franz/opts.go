package franztransport

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func isGroupOpt(o kgo.Opt) bool    { _, ok := o.(kgo.GroupOpt); return ok }
func isProducerOpt(o kgo.Opt) bool { _, ok := o.(kgo.ProducerOpt); return ok }
func isConsumerOpt(o kgo.Opt) bool { _, ok := o.(kgo.ConsumerOpt); return ok }

// without returns a copy of opts minus those any drop function matches.
func without(opts []kgo.Opt, drop ...func(kgo.Opt) bool) []kgo.Opt {
	out := make([]kgo.Opt, 0, len(opts)+8)
next:
	for _, o := range opts {
		for _, d := range drop {
			if d(o) {
				continue next
			}
		}
		out = append(out, o)
	}
	return out
}

// fetchOpts are the options of a fetch session's client: the base options
// without group and producer options (a transactional id must not reach a
// second client), consuming exactly the given partitions of topic at
// explicit offsets. The caller's consumer options that tune fetching
// (isolation level, max bytes, rack) stay; the ones choosing what to
// consume are overridden (later options win in kgo).
//
// Control records are kept so positions move past transaction markers
// (SPEC §12); they are filtered out before the core sees records.
// Retriable fetch errors are kept too (kgo still refreshes its metadata on
// them): the core sees them, counts them and decides how to retry, instead
// of a table that silently stops advancing. A
// position that falls out of range is not reset by kgo
// (kgo.NoResetOffset): the fetcher reports it and the core decides where to
// go (ADR 7).
func fetchOpts(base []kgo.Opt, topic string, from map[int32]kgo.Offset, extra ...kgo.Opt) []kgo.Opt {
	opts := without(base, isGroupOpt, isProducerOpt)
	var parts map[string]map[int32]kgo.Offset
	if topic != "" {
		parts = map[string]map[int32]kgo.Offset{topic: from}
	}
	opts = append(opts,
		kgo.ConsumeTopics(),
		kgo.ConsumePartitions(parts),
		kgo.KeepControlRecords(),
		kgo.ConsumeResetOffset(kgo.NoResetOffset()),
		kgo.KeepRetryableFetchErrors(),
	)
	return append(opts, extra...)
}

// produceOpts are the options of a derived producer client: no consuming,
// and records go to kgo.Record.Partition.
func produceOpts(base []kgo.Opt) []kgo.Opt {
	return append(without(base, isGroupOpt, isConsumerOpt), kgo.RecordPartitioner(kgo.ManualPartitioner()))
}

func optBool(cl *kgo.Client, opt any) bool {
	b, _ := cl.OptValue(opt).(bool)
	return b
}

func optTxn(cl *kgo.Client) bool {
	vs := cl.OptValues(kgo.TransactionalID)
	if len(vs) < 2 {
		return false
	}
	b, _ := vs[1].(bool)
	return b
}

func isReadCommitted(cl *kgo.Client) bool {
	lvl, _ := cl.OptValue(kgo.FetchIsolationLevel).(int8)
	return lvl == 1
}

func isRegex(cl *kgo.Client) bool { return optBool(cl, kgo.ConsumeRegex) }

// honoursPartition reports whether cl's partitioner sends a record to
// kgo.Record.Partition, as kgo.ManualPartitioner does. kgo offers no way to
// ask, so this probes the partitioner with records whose explicit partition
// disagrees with any key hash (the same key to different partitions) and
// with any round robin (the same partition twice in a row). Partitioners
// that choose with backup (kgo.TopicBackupPartitioner) are not probed and
// count as not honouring.
func honoursPartition(cl *kgo.Client) bool {
	p, _ := cl.OptValue(kgo.RecordPartitioner).(kgo.Partitioner)
	if p == nil {
		return false
	}
	tp := p.ForTopic("ktables-partitioner-probe")
	if _, backup := tp.(kgo.TopicBackupPartitioner); backup {
		return false
	}
	const n = 8
	now := time.Now()
	for _, c := range []struct {
		key  string
		part int32
	}{{"a", 5}, {"a", 5}, {"a", 6}, {"b", 2}, {"b", 0}, {"c", 7}, {"c", 7}} {
		r := &kgo.Record{Key: []byte(c.key), Value: []byte{}, Partition: c.part, Timestamp: now}
		if tp.Partition(r, n) != int(c.part) {
			return false
		}
	}
	return true
}
