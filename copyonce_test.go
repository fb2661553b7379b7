package ktables

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// fetchBuffer lays records out the way a client's fetch response does: every
// key and value is a sub-slice of one large buffer.
func fetchBuffer(n int, key func(i int) string, value func(i int) string) (buf []byte, recs []transport.Record) {
	buf = make([]byte, 0, 1<<16)
	type span struct{ k0, k1, v0, v1 int }
	spans := make([]span, n)
	for i := range n {
		s := span{k0: len(buf)}
		buf = append(buf, key(i)...)
		s.k1, s.v0 = len(buf), len(buf)
		buf = append(buf, value(i)...)
		s.v1 = len(buf)
		spans[i] = s
	}
	for i, s := range spans {
		recs = append(recs, transport.Record{Key: buf[s.k0:s.k1:s.k1], Value: buf[s.v0:s.v1:s.v1], Offset: int64(i)})
	}
	return buf, recs
}

func inside(p unsafe.Pointer, buf []byte) bool {
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	return uintptr(p) >= lo && uintptr(p) < lo+uintptr(cap(buf))
}

// applyFrom builds a table over st and applies recs as one batch, the way
// the reader does after a Poll.
func applyFrom[V any](t *testing.T, codec Codec[V], st store[V], opts []Option, recs []transport.Record) *Table[V] {
	t.Helper()
	cfg, err := buildConfig(scopeTable|scopeGrouped, opts)
	if err != nil {
		t.Fatal(err)
	}
	c := memtransport.NewCluster()
	t.Cleanup(func() { c.Close() })
	tbl, err := newTable(c.Transport(), "copy-once", codec, st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := tbl.newReader(nil, nil)
	if err := r.apply(transport.Batch{Records: recs}); err != nil {
		t.Fatal(err)
	}
	return tbl
}

// No stored key or value, nor anything handed to a hook, points into the
// client's fetch buffer: one surviving key would otherwise pin the whole
// buffer (issue 17; ADR 15 — the copy is made once, when applying).
func TestApplyNeverRetainsFetchBuffer(t *testing.T) {
	key := func(i int) string { return fmt.Sprintf("key-%04d", i) }
	val := func(i int) string { return fmt.Sprintf(`{"id":%d}`, i) }
	type payload struct{ ID int }

	check := func(t *testing.T, buf []byte, what string, p unsafe.Pointer) {
		t.Helper()
		if inside(p, buf) {
			t.Fatalf("%s points into the fetch buffer", what)
		}
	}
	checkTable := func(t *testing.T, buf []byte, n int, each func(fn func(k string, v unsafe.Pointer)) int) {
		t.Helper()
		if got := each(func(k string, v unsafe.Pointer) {
			check(t, buf, "key "+k, unsafe.Pointer(unsafe.StringData(k)))
			if v != nil {
				check(t, buf, "value of "+k, v)
			}
		}); got != n {
			t.Fatalf("visited %d entries, want %d", got, n)
		}
	}
	const n = 200

	t.Run("bytes", func(t *testing.T) {
		buf, recs := fetchBuffer(n, key, val)
		var hooked []string
		var hookedV [][]byte
		tbl := applyFrom(t, Bytes(), newFlatStore(Bytes()), []Option{OnSet(func(k string, v []byte) {
			hooked, hookedV = append(hooked, k), append(hookedV, v)
		})}, recs)
		checkTable(t, buf, n, func(fn func(string, unsafe.Pointer)) int {
			c := 0
			for k, v := range tbl.All() {
				if string(v) != val(c) && len(v) == 0 {
					t.Fatalf("%s: empty value", k)
				}
				fn(k, unsafe.Pointer(unsafe.SliceData(v)))
				c++
			}
			return c
		})
		for i, k := range hooked {
			check(t, buf, "hook key", unsafe.Pointer(unsafe.StringData(k)))
			check(t, buf, "hook value", unsafe.Pointer(unsafe.SliceData(hookedV[i])))
		}
		if got, _ := tbl.Get(key(7)); string(got) != val(7) {
			t.Fatalf("Get = %q, want %q", got, val(7))
		}
	})
	t.Run("string", func(t *testing.T) {
		buf, recs := fetchBuffer(n, key, val)
		tbl := applyFrom(t, String(), newFlatStore(String()), nil, recs)
		checkTable(t, buf, n, func(fn func(string, unsafe.Pointer)) int {
			c := 0
			for k, v := range tbl.Snapshot() {
				fn(k, unsafe.Pointer(unsafe.StringData(v)))
				c++
			}
			return c
		})
	})
	t.Run("json", func(t *testing.T) {
		buf, recs := fetchBuffer(n, key, val)
		tbl := applyFrom(t, JSON[payload](), newFlatStore(JSON[payload]()), nil, recs)
		checkTable(t, buf, n, func(fn func(string, unsafe.Pointer)) int {
			c := 0
			for k := range tbl.All() {
				fn(k, nil)
				c++
			}
			return c
		})
	})
	t.Run("grouped bytes", func(t *testing.T) {
		gkey := func(i int) string {
			k, _ := DefaultKeyCodec.Encode(fmt.Sprintf("g%d", i%7), fmt.Sprintf("m%d", i))
			return k
		}
		buf, recs := fetchBuffer(n, gkey, val)
		idx := newGroupIndex[[]byte](DefaultKeyCodec)
		applyFrom(t, Bytes(), store[[]byte](idx), nil, recs)
		seen := 0
		for g, members := range idx.nested() {
			for m, v := range members {
				seen++
				check(t, buf, "member "+m, unsafe.Pointer(unsafe.StringData(m)))
				check(t, buf, "value of "+m, unsafe.Pointer(unsafe.SliceData(v)))
			}
			_ = g
		}
		x := idx.groups
		x.cellChunks(func(part []cell[*memberSet[[]byte]]) bool {
			for i := range part {
				check(t, buf, "group "+part[i].key(), unsafe.Pointer(part[i].kp))
				for m := range part[i].val.m {
					check(t, buf, "stored member "+m, unsafe.Pointer(unsafe.StringData(m)))
				}
			}
			return true
		})
		if seen != n {
			t.Fatalf("saw %d members, want %d", seen, n)
		}
	})
}

// The packed store's slot is one pointer and its entry header two
// lengths (issue 17: memory at 1M keys within payload + 48 B/key).
func TestPackedEntryLayout(t *testing.T) {
	if s := unsafe.Sizeof(ptable{}.ptrs[0]); s != 8 {
		t.Fatalf("packed slot is %d bytes, want 8", s)
	}
	if kvHeader != 8 {
		t.Fatalf("packed entry header is %d bytes, want 8", kvHeader)
	}
}

// Empty keys and empty values survive the packed layout, and an update
// replaces the value without disturbing other keys.
func TestPackedStoreEdges(t *testing.T) {
	s := bytesStore{newPackedMap()}
	s.set("", []byte{})
	s.set("k", []byte{})
	s.set("", []byte("v"))
	s.set("x", []byte("1"))
	s.set("x", []byte("22"))
	for k, want := range map[string]string{"": "v", "k": "", "x": "22"} {
		got, ok := s.get(k)
		if !ok || string(got) != want || got == nil {
			t.Fatalf("get(%q) = %q,%v (nil %v), want %q", k, got, ok, got == nil, want)
		}
	}
	if old, ok := s.remove("x"); !ok || string(old) != "22" {
		t.Fatalf("remove(x) = %q,%v", old, ok)
	}
	if _, ok := s.get("x"); ok || s.len() != 2 {
		t.Fatalf("after remove: present %v, len %d", ok, s.len())
	}
	st := stringStore{newPackedMap()}
	st.set("a", "alpha")
	if v, ok := st.get("a"); !ok || v != "alpha" {
		t.Fatalf("string get = %q,%v", v, ok)
	}
	if snap := st.snapshot(); len(snap) != 1 || snap["a"] != "alpha" {
		t.Fatalf("snapshot = %v", snap)
	}
}
