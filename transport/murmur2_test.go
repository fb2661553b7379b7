package transport_test

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/ktables/ktables/transport"
)

type murmurVector struct {
	Key       string           `json:"key"`
	KeyHex    string           `json:"key_hex"`
	Murmur2   int32            `json:"murmur2"`
	Partition map[string]int32 `json:"partition"`
}

// SPEC P1, P2: Kafka's published murmur2 vectors plus partitions observed
// from franz-go and librdkafka.
func TestMurmur2Vectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/murmur2.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vectors []murmurVector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Vectors) < 6 {
		t.Fatalf("expected at least Kafka's six vectors, got %d", len(doc.Vectors))
	}
	for _, v := range doc.Vectors {
		key, err := hex.DecodeString(v.KeyHex)
		if err != nil {
			t.Fatal(err)
		}
		if string(key) != v.Key {
			t.Fatalf("vector %q: key_hex disagrees with key", v.Key)
		}
		if got := transport.Murmur2(key); got != v.Murmur2 {
			t.Errorf("P2 Murmur2(%q) = %d, want %d", v.Key, got, v.Murmur2)
		}
		for ns, want := range v.Partition {
			n, err := strconv.Atoi(ns)
			if err != nil {
				t.Fatal(err)
			}
			if got := transport.Partition(key, int32(n)); got != want {
				t.Errorf("P1 Partition(%q, %d) = %d, want %d", v.Key, n, got, want)
			}
		}
	}
}

func TestPartitionInRange(t *testing.T) {
	for i := 0; i < 10000; i++ {
		key := []byte(strconv.Itoa(i * 7919))
		for _, n := range []int32{1, 2, 3, 7, 64} {
			if p := transport.Partition(key, n); p < 0 || p >= n {
				t.Fatalf("P1 Partition(%q, %d) = %d out of range", key, n, p)
			}
		}
	}
	if p := transport.Partition(nil, 5); p < 0 || p >= 5 {
		t.Fatalf("empty key partition %d", p)
	}
}

func BenchmarkMurmur2(b *testing.B) {
	key := []byte("service-registry/billing/host-a")
	for b.Loop() {
		transport.Murmur2(key)
	}
}
