package ktables_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
)

// benchKeyLens are the key lengths the Get benchmarks below try: a flag
// name, the 13-byte benchKey, a host:port, a UUID, a path.
var benchKeyLens = []int{4, 13, 24, 36, 64}

// keyOfLen is record i's key of exactly n bytes (n >= 4): four base-36
// digits of i between a shared prefix and suffix, so keys of one length
// differ only in the middle, as service names and paths tend to, and a
// probe cannot tell them apart by their first or last bytes alone.
func keyOfLen(n int) func(int) []byte {
	const filler = "svc.payments-prod.eu-west-1.internal:8443/v1/accounts/by-region/"
	pre := (n - 4) / 2
	return func(i int) []byte {
		id := strconv.FormatUint(uint64(i), 36)
		id = strings.Repeat("0", 4-len(id)) + id
		k := make([]byte, 0, n)
		k = append(k, filler[:pre]...)
		k = append(k, id...)
		return append(k, filler[len(filler)-(n-4-pre):]...)
	}
}

// keyLenTable is benchTable with keys of n bytes.
func keyLenTable(b *testing.B, n int) (*memtransport.Cluster, *ktables.Table[[]byte]) {
	c := memtransport.NewCluster()
	b.Cleanup(func() { c.Close() })
	seedKeys(b, c, "bench", 4, 100_000, 100, keyOfLen(n))
	tbl, err := ktables.Open(context.Background(), c.Transport(), "bench", ktables.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tbl.Close() })
	return c, tbl
}

// keyLenSets are the hot 1,024 keys and all 100k, of n bytes.
func keyLenSets(n int) []keySet {
	keyOf := keyOfLen(n)
	mk := func(count, stride int) []string {
		keys := make([]string, count)
		for i := range keys {
			keys[i] = string(keyOf(i * stride % 100_000))
		}
		return keys
	}
	return []keySet{{"hot1024", mk(1024, 97)}, {"all100k", mk(100_000, 7919)}}
}

// BenchmarkGetKeyLenInterleaved is BenchmarkGetInterleaved for each of
// benchKeyLens: Get's probe must not be fast only for the 13-byte benchKey.
func BenchmarkGetKeyLenInterleaved(b *testing.B) {
	for _, n := range benchKeyLens {
		b.Run(fmt.Sprintf("len%d", n), func(b *testing.B) {
			_, tbl := keyLenTable(b, n)
			getInterleaved(b, tbl, rawCopy(tbl), keyLenSets(n))
		})
	}
}

// BenchmarkGetKeyLenParallelInterleaved is BenchmarkGetParallelInterleaved
// for each of benchKeyLens.
func BenchmarkGetKeyLenParallelInterleaved(b *testing.B) {
	for _, n := range benchKeyLens {
		b.Run(fmt.Sprintf("len%d", n), func(b *testing.B) {
			c, tbl := keyLenTable(b, n)
			live := func() func() int64 { return liveUpdatesOf(c, keyOfLen(n)) }
			getParallelInterleaved(b, tbl, rawCopy(tbl), keyLenSets(n), live)
		})
	}
}

// keyOfLen's keys have the length asked for and are distinct.
func TestKeyOfLen(t *testing.T) {
	for _, n := range benchKeyLens {
		seen := make(map[string]bool, 100_000)
		keyOf := keyOfLen(n)
		for i := range 100_000 {
			k := string(keyOf(i))
			if len(k) != n || seen[k] {
				t.Fatalf("len %d: key %d is %q (dup %v)", n, i, k, seen[k])
			}
			seen[k] = true
		}
	}
}
