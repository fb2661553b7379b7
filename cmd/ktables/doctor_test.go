package main

import (
	"context"
	"encoding/json"
	franztransport "github.com/ktables/ktables/transport_franz"
	"hash/crc32"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
)

// keyOffMurmur2 returns a key whose CRC32 partition (kcat's default) is not
// its murmur2 one on n partitions, and that partition.
func keyOffMurmur2(t *testing.T, n int32) (string, int32) {
	for i := range 1000 {
		k := "key-" + strconv.Itoa(i)
		crc := int32(crc32.ChecksumIEEE([]byte(k)) % uint32(n))
		if crc != transport.Partition([]byte(k), n) {
			return k, crc
		}
	}
	t.Fatal("no key off murmur2")
	return "", 0
}

func produce(t *testing.T, seeds []string, topic string, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, r := range recs {
		r.Topic = topic
	}
	if err := cl.ProduceSync(kafkatest.Ctx(t, 20*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func doctorJSON(t *testing.T, r result) report {
	t.Helper()
	var rep report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("doctor --format json: %v\n%s", err, r.stdout)
	}
	return rep
}

func finding1(rep report, check string) finding {
	for _, f := range rep.Checks {
		if f.Check == check {
			return f
		}
	}
	return finding{}
}

// Issue 20 item 4: ktables doctor.
func TestDoctor(t *testing.T) {
	seeds := kafkatest.Start(t)
	forEachClient(t, func(t *testing.T, client string) {
		c := conn(seeds, client)
		topic, tf := topicFlag(t)
		ok(t, args([]string{"ensure-topic", "--partitions", "3"}, c, tf)...)
		for i := range 30 {
			ok(t, args([]string{"set"}, c, tf, []string{"k" + strconv.Itoa(i), "v"})...)
		}
		ok(t, args([]string{"delete"}, c, tf, []string{"k0"})...)
		r := ok(t, args([]string{"doctor"}, c, tf)...)
		if !strings.Contains(r.stdout, "verdict: 0 problems") || !strings.Contains(r.stdout, "1 tombstone (deletes)") ||
			!strings.Contains(r.stdout, "cleanup.policy=compact") {
			t.Fatalf("doctor of a healthy topic:\n%s", r.stdout)
		}

		// kcat's default partitioner puts a key beside its murmur2 partition.
		key, crc := keyOffMurmur2(t, 3)
		produce(t, seeds, topic,
			&kgo.Record{Key: []byte(key), Value: []byte("new"), Partition: crc},
			&kgo.Record{Value: []byte("keyless"), Partition: 0},
			&kgo.Record{Key: []byte("empty"), Value: []byte{}, Partition: transport.Partition([]byte("empty"), 3)})
		ok(t, args([]string{"set"}, c, tf, []string{key, "old"})...)
		r = cli(t, args([]string{"doctor"}, c, tf)...)
		checkFail(t, r, 1, `doctor: topic "`+topic+`": 2 problems`)
		for _, want := range []string{"problem     murmur2 partitioning", "problem     one partition per key",
			"key \"" + key + "\" on partitions", "kcat/librdkafka's default partitioner", "1 record without a key", "1 record with an empty value"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("doctor lacks %q:\n%s", want, r.stdout)
			}
		}
		rep := doctorJSON(t, cli(t, args([]string{"doctor", "--format", "json"}, c, tf)...))
		if rep.Problems != 2 || rep.Counts.MisroutedKeys != 1 || rep.Counts.KeysInManyParts != 1 || rep.Counts.Keyless != 1 ||
			rep.Counts.EmptyValues != 1 || rep.Counts.Tombstones != 1 || rep.Partitions != 3 {
			t.Fatalf("doctor --format json: %+v", rep)
		}
		if f := finding1(rep, "one partition per key"); len(f.Keys) != 1 || f.Keys[0].Expected != transport.Partition([]byte(key), 3) {
			t.Fatalf("multi-partition finding: %+v", f)
		}
	})
}

// Issue 20 item 4: partitions added after keys were written are named as
// the likely cause; a topic that deletes is a problem; grouped foreign keys.
func TestDoctorCauses(t *testing.T) {
	seeds := kafkatest.Start(t)
	c := conn(seeds, "franz")
	topic, tf := topicFlag(t)
	ok(t, args([]string{"ensure-topic", "--partitions", "2"}, c, tf)...)
	var key string
	for i := range 1000 {
		k := "grow-" + strconv.Itoa(i)
		if transport.Partition([]byte(k), 2) != transport.Partition([]byte(k), 3) {
			key = k
			break
		}
	}
	ok(t, args([]string{"set"}, c, tf, []string{key, "before"})...)
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).UpdatePartitions(kafkatest.Ctx(t, 10*time.Second), 3, topic); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "3 partitions", func() bool {
		tr, err := franztransport.New(seeds)
		if err != nil {
			return false
		}
		defer tr.Close()
		p, err := tr.Partitions(context.Background(), topic)
		return err == nil && len(p) == 3
	})
	ok(t, args([]string{"set"}, c, tf, []string{key, "after"})...)
	r := cli(t, args([]string{"doctor"}, c, tf)...)
	if r.code != 1 || !strings.Contains(r.stdout, "partitions added after the key was written (murmur2 mod 2") {
		t.Fatalf("doctor after adding partitions: exit %d\n%s", r.code, r.stdout)
	}

	del, dtf := topicFlag(t)
	ok(t, args([]string{"ensure-topic", "--config", "cleanup.policy=delete"}, c, dtf)...)
	ok(t, args([]string{"set", "--grouped"}, c, dtf, []string{"g", "m", "v"})...)
	ok(t, args([]string{"set"}, c, dtf, []string{"not-grouped", "v"})...)
	rep := doctorJSON(t, cli(t, args([]string{"doctor", "--grouped", "--format", "json"}, c, dtf)...))
	if f := finding1(rep, "cleanup.policy"); f.Status != statusProblem || !strings.Contains(f.Message, "cleanup.policy=delete") {
		t.Fatalf("%s: cleanup.policy finding %+v", del, f)
	}
	if f := finding1(rep, "foreign keys"); f.Status != statusWarning || rep.Counts.ForeignKeys != 1 || !strings.Contains(f.Message, `"not-grouped"`) {
		t.Fatalf("foreign keys finding %+v", f)
	}
	if f := finding1(rep, "open transactions"); f.Status != statusNotChecked {
		t.Fatalf("open transactions finding %+v", f)
	}
}
