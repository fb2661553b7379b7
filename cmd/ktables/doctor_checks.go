package main

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

// maxExamples caps the example keys a finding lists.
const maxExamples = 5

// isGroupedKey reports whether key decodes as a (group, member) pair.
func isGroupedKey(key string) bool {
	_, _, ok := ktables.DefaultKeyCodec.Decode(key)
	return ok
}

// likelyCause names what puts key on partition p of an n-partition topic
// when murmur2 (the Java clients', franz-go's and ktables' choice) does not.
func likelyCause(key []byte, p, n int32) string {
	var causes []string
	if int32(crc32.ChecksumIEEE(key)%uint32(n)) == p {
		causes = append(causes, "kcat/librdkafka's default partitioner (consistent_random: CRC32; use kcat -X partitioner=murmur2_random)")
	}
	h := fnv.New32a()
	h.Write(key)
	if fp := int32(h.Sum32()) % n; fp == p || -fp == p {
		causes = append(causes, "sarama's default hash partitioner (FNV-1a; use a murmur2 partitioner such as ktables' sarama transport)")
	}
	for m := n - 1; m >= 2; m-- {
		if transport.Partition(key, m) == p {
			causes = append(causes, fmt.Sprintf("partitions added after the key was written (murmur2 mod %d puts it there)", m))
			break
		}
	}
	if len(causes) == 0 {
		return "a producer choosing partitions by hand or by another hash"
	}
	return strings.Join(causes, ", or ")
}

func (sc *scan) showKey(enc, key string) string {
	if s, ok := showKey(enc, key); ok {
		return strconv.Quote(s)
	}
	return strconv.Quote(key) + " (not UTF-8)"
}

// checkRouting finds keys off their murmur2 partition and keys in more
// than one partition: on such a topic a later write can lose to an older
// one, because a table applies partitions in no fixed order between them.
func checkRouting(rep *report, sc *scan, keysEnc string) {
	n := int32(len(sc.parts))
	if n == 0 {
		rep.add("partitioning", statusProblem, "the topic lists no partitions")
		return
	}
	var misrouted, multi []string
	for _, k := range slices.Sorted(maps.Keys(sc.keys)) {
		ks := sc.keys[k]
		want := transport.Partition([]byte(k), n)
		if slices.ContainsFunc(ks.parts, func(p partState) bool { return p.partition != want }) {
			misrouted = append(misrouted, k)
		}
		if len(ks.parts) > 1 {
			multi = append(multi, k)
		}
	}
	rep.Counts.MisroutedKeys, rep.Counts.KeysInManyParts = len(misrouted), len(multi)
	examples := func(f *finding, keys []string) {
		for _, k := range keys[:min(len(keys), maxExamples)] {
			ks := sc.keys[k]
			want := transport.Partition([]byte(k), n)
			kf := keyFinding{Key: sc.showKey(keysEnc, k), Expected: want}
			var off int32 = -1
			for _, p := range ks.parts {
				kf.Partitions = append(kf.Partitions, p.partition)
				if p.partition != want && off < 0 {
					off = p.partition
				}
			}
			slices.Sort(kf.Partitions)
			kf.Cause = "written by a murmur2 producer too"
			if off >= 0 {
				kf.Cause = "likely " + likelyCause([]byte(k), off, n)
			}
			f.Keys = append(f.Keys, kf)
		}
	}
	if len(misrouted) == 0 {
		rep.add("murmur2 partitioning", statusOK, "every key is on partition murmur2(key) mod %d, where Java clients, franz-go and ktables write it", n)
	} else {
		f := rep.add("murmur2 partitioning", statusProblem, "%s on a partition other than murmur2(key) mod %d: ktables writers put their next write elsewhere",
			plural(len(misrouted), "key"), n)
		examples(f, misrouted)
	}
	if len(multi) == 0 {
		rep.add("one partition per key", statusOK, "no key is in more than one partition")
	} else {
		f := rep.add("one partition per key", statusProblem, "%s in more than one partition: the table's value is whichever partition it read last, "+
			"so a newer write can lose to an older one, and compaction never removes the stale copy", plural(len(multi), "key"))
		examples(f, multi)
	}
}

// checkConfig compares the topic's configs with what a table needs.
func checkConfig(ctx context.Context, rep *report, tr transport.Transport, topic string, offline time.Duration) {
	tc, ok := tr.(transport.TopicConfigurer)
	if !ok {
		rep.add("topic configs", statusNotChecked, "the %s transport cannot describe topic configs", rep.Client)
		return
	}
	entries, err := tc.DescribeTopicConfig(ctx, topic)
	if err != nil {
		rep.add("topic configs", statusNotChecked, "describing the configs failed: %s", errorLine(err)[len("ktables: "):])
		return
	}
	cfg := map[string]string{}
	for _, e := range entries {
		cfg[e.Name] = e.Value
	}
	policy := cfg["cleanup.policy"]
	hasDelete := strings.Contains(policy, "delete")
	switch {
	case policy == "":
		rep.add("cleanup.policy", statusNotChecked, "the broker did not report cleanup.policy")
	case !strings.Contains(policy, "compact"):
		rep.add("cleanup.policy", statusProblem, "cleanup.policy=%s: old records are deleted by age or size, current values included, "+
			"and overwritten ones are never compacted (fix: ktables ensure-topic --on-mismatch reconcile)", policy)
	case hasDelete:
		rep.add("cleanup.policy", statusWarning, "cleanup.policy=%s: compacted, but keys not rewritten within retention.ms disappear", policy)
	default:
		rep.add("cleanup.policy", statusOK, "cleanup.policy=%s", policy)
	}
	if ms, ok := msConfig(cfg, "retention.ms"); ok {
		switch {
		case !hasDelete:
			rep.add("retention.ms", statusOK, "retention.ms=%s is not applied: the topic only compacts", cfg["retention.ms"])
		case ms < 0:
			rep.add("retention.ms", statusOK, "retention.ms=-1: nothing is deleted by age")
		default:
			rep.add("retention.ms", statusWarning, "retention.ms=%d (%s): with cleanup.policy=%s a key not rewritten for that long vanishes from the table",
				ms, time.Duration(ms)*time.Millisecond, policy)
		}
	}
	if ms, ok := msConfig(cfg, "delete.retention.ms"); ok {
		d := time.Duration(ms) * time.Millisecond
		if d < offline {
			rep.add("delete.retention.ms", statusWarning, "delete.retention.ms=%d (%s) is shorter than --max-offline %s: a reader disconnected longer than %s "+
				"can miss tombstones that compaction removed, and keep deleted keys until it reopens", ms, d, offline, d)
		} else {
			rep.add("delete.retention.ms", statusOK, "delete.retention.ms=%d (%s): tombstones outlive a reader offline up to --max-offline %s", ms, d, offline)
		}
	}
	if ms, ok := msConfig(cfg, "min.compaction.lag.ms"); ok {
		d := time.Duration(ms) * time.Millisecond
		if d > 7*24*time.Hour {
			rep.add("min.compaction.lag.ms", statusWarning, "min.compaction.lag.ms=%d (%s): every overwrite of that long is kept, so opening a table replays them all", ms, d)
		} else {
			rep.add("min.compaction.lag.ms", statusOK, "min.compaction.lag.ms=%d (%s)", ms, d)
		}
	}
}

func msConfig(cfg map[string]string, name string) (int64, bool) {
	v, ok := cfg[name]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// counts decodes the values per --values and totals the record kinds.
func (sc *scan) counts(values string) counts {
	c := counts{Tombstones: sc.tombstones, EmptyValues: sc.empty, Keyless: sc.keyless, ForeignKeys: len(sc.foreign)}
	for k := range sc.keys {
		if !utf8.ValidString(k) {
			c.UndecodableKeys++
		}
	}
	c.ValuesChecked = values != encBase64
	if c.ValuesChecked {
		for _, v := range sc.values {
			if (values == encJSON && !json.Valid(v)) || (values != encJSON && !utf8.Valid(v)) {
				c.UndecodableValues++
			}
		}
	}
	for _, p := range sc.parts {
		c.PerPartitionRecord = append(c.PerPartitionRecord, sc.perPartition[p])
	}
	return c
}

func checkCounts(rep *report, sc *scan, tf *tableFlags) {
	c := rep.Counts
	rep.add("tombstones", statusInfo, "%s (deletes)", plural(int(c.Tombstones), "tombstone"))
	if c.EmptyValues > 0 {
		rep.add("empty values", statusInfo, "%s with an empty value: data, not deletes (kcat writes one for 'key:' unless -Z)", plural(int(c.EmptyValues), "record"))
	} else {
		rep.add("empty values", statusOK, "no empty values")
	}
	if c.Keyless > 0 {
		rep.add("keyless records", statusWarning, "%s without a key: a table skips them", plural(int(c.Keyless), "record"))
	} else {
		rep.add("keyless records", statusOK, "every record has a key")
	}
	switch {
	case c.UndecodableKeys == 0:
		rep.add("undecodable keys", statusOK, "every key is valid UTF-8")
	case tf.grouped:
		rep.add("undecodable keys", statusWarning, "%s not valid UTF-8: a grouped table skips them", plural(int(c.UndecodableKeys), "key"))
	default:
		rep.add("undecodable keys", statusInfo, "%s not valid UTF-8: fine for a table of bytes; read them with --keys base64", plural(int(c.UndecodableKeys), "key"))
	}
	switch {
	case !c.ValuesChecked:
		rep.add("undecodable values", statusNotChecked, "--values base64 shows any bytes")
	case c.UndecodableValues == 0:
		rep.add("undecodable values", statusOK, "every value decodes as %s", tf.values)
	case tf.values == encJSON:
		rep.add("undecodable values", statusWarning, "%s not JSON: a table with a JSON codec skips them (ValueDecodeErrors)", plural(int(c.UndecodableValues), "value"))
	default:
		rep.add("undecodable values", statusInfo, "%s not valid UTF-8: dump them with --values base64", plural(int(c.UndecodableValues), "value"))
	}
	if tf.grouped {
		if c.ForeignKeys > 0 {
			var ex []string
			for _, k := range slices.Sorted(maps.Keys(sc.foreign))[:min(c.ForeignKeys, maxExamples)] {
				ex = append(ex, sc.showKey(tf.keys, k))
			}
			rep.add("foreign keys", statusWarning, "%s not (group, member) pairs: a grouped table skips them (%s)", plural(c.ForeignKeys, "key"), strings.Join(ex, ", "))
		} else {
			rep.add("foreign keys", statusOK, "every key is a (group, member) pair")
		}
	}
}

// checkPartitions reports the partition count and the skew of records.
func checkPartitions(rep *report, sc *scan) {
	n := len(sc.parts)
	if n == 0 {
		return
	}
	rep.add("partition count", statusInfo, "%s", plural(n, "partition"))
	if n == 1 || sc.records < int64(10*n) {
		rep.add("partition skew", statusOK, "too few records or partitions to matter")
		return
	}
	mean := float64(sc.records) / float64(n)
	var maxP int32
	for _, p := range sc.parts {
		if sc.perPartition[p] > sc.perPartition[maxP] {
			maxP = p
		}
	}
	ratio := float64(sc.perPartition[maxP]) / mean
	if ratio > 2 {
		rep.add("partition skew", statusWarning, "partition %d holds %d records, %.1f× the mean of %.0f: a few hot keys, or a producer that is not hashing keys", maxP, sc.perPartition[maxP], ratio, mean)
	} else {
		rep.add("partition skew", statusOK, "the fullest partition (%d) holds %.1f× the mean of %.0f records", maxP, ratio, mean)
	}
}

// readCommitter is how an adapter says it reads committed records only;
// its EndOffsets are then last stable offsets.
type readCommitter interface{ ReadCommitted() bool }

// checkTransactions looks for transactions still open. The transport
// reports one end offset per partition, the high watermark or, reading
// committed, the last stable offset, never both: the check needs both.
func checkTransactions(rep *report, tr transport.Transport) {
	if rc, ok := tr.(readCommitter); ok && rc.ReadCommitted() {
		rep.add("open transactions", statusNotChecked, "the %s transport reads committed records and reports last stable offsets only; "+
			"comparing them with high watermarks needs an admin client", rep.Client)
		return
	}
	rep.add("open transactions", statusNotChecked, "the %s transport reports high watermarks only, not last stable offsets", rep.Client)
}
