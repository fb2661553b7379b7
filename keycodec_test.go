package ktables_test

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
)

// SPEC K1 (issue 15 item 17): flat tables decode keys as UTF-8 by default,
// like the Python library; a non-UTF-8 key is skipped, counted as a key
// decode error, and leaves the map as it was.
func TestKeyFormatK1UTF8Default(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("ok"), []byte("1"))
	appendRec(t, c, topic, 0, []byte("caf\xc3"), []byte("2")) // truncated UTF-8
	appendRec(t, c, topic, 0, []byte("\xff\xfe"), nil)        // a tombstone with a bad key is skipped too
	appendRec(t, c, topic, 0, []byte("café"), []byte("3"))

	tbl := openBytes(t, ctx, c.Transport(), topic)
	st := tbl.Stats()
	if tbl.Len() != 2 || !tbl.Has("ok") || !tbl.Has("café") || tbl.Has("caf\xc3") {
		t.Fatalf("K1 map %v", tbl.Snapshot())
	}
	if st.KeyDecodeErrors != 2 || st.RecordsApplied != 2 || st.TombstonesApplied != 0 {
		t.Fatalf("K1 stats %+v", st)
	}

	raw := openBytes(t, ctx, c.Transport(), topic, ktables.WithKeyFormat(ktables.RawKeys()))
	if raw.Len() != 3 || !raw.Has("caf\xc3") || raw.Stats().KeyDecodeErrors != 0 {
		t.Fatalf("K1 raw keys: %v %+v", raw.Snapshot(), raw.Stats())
	}
}

// SPEC K1: a writer refuses a key its readers would skip; with RawKeys it
// sends the bytes as they are.
func TestKeyFormatK1Writer(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	w := openWriter(t, ctx, c.Transport(), topic)
	produced := c.Calls(memtransport.OpProduce)
	if err := w.Set(ctx, "bad\xff", []byte("v")); !errors.Is(err, ktables.ErrInvalidKey) {
		t.Fatalf("K1 writer must refuse a non-UTF-8 key: %v", err)
	}
	if err := w.Delete(ctx, "bad\xff"); !errors.Is(err, ktables.ErrInvalidKey) {
		t.Fatalf("K1 writer must refuse a non-UTF-8 key on delete: %v", err)
	}
	if n := c.Calls(memtransport.OpProduce) - produced; n != 0 {
		t.Fatalf("K1 a refused key was sent %d times", n)
	}
	rw := openWriter(t, ctx, c.Transport(), topic, ktables.WithKeyFormat(ktables.RawKeys()))
	if err := rw.Set(ctx, "bin\xff", []byte("v")); err != nil {
		t.Fatalf("K1 raw writer: %v", err)
	}
	raw := openBytes(t, ctx, c.Transport(), topic, ktables.WithKeyFormat(ktables.RawKeys()))
	if _, ok := raw.Get("bin\xff"); !ok {
		t.Fatalf("K1 raw round trip: %v", raw.Snapshot())
	}
}

// hexKeys is a custom key format: record keys are binary, table keys their
// hex text.
type hexKeys struct{}

func (hexKeys) DecodeKey(b []byte) (string, error) {
	if len(b) == 1 && b[0] == 0 {
		panic("hexKeys: a format that panics")
	}
	return hex.EncodeToString(b), nil
}
func (hexKeys) EncodeKey(k string) ([]byte, error) { return hex.DecodeString(k) }

// SPEC K1: a custom key format decodes and encodes keys; its errors and
// panics skip the record and count as key decode errors.
func TestKeyFormatK1Custom(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte{0xde, 0xad}, []byte("1"))
	appendRec(t, c, topic, 0, []byte{0}, []byte("2")) // the decoder panics on it
	w := openWriter(t, ctx, c.Transport(), topic, ktables.WithKeyFormat(hexKeys{}))
	if err := w.Set(ctx, "beef", []byte("3")); err != nil {
		t.Fatal(err)
	}
	if err := w.Set(ctx, "not hex", []byte("4")); !errors.Is(err, ktables.ErrInvalidKey) {
		t.Fatalf("K1 custom encode error: %v", err)
	}
	tbl := openBytes(t, ctx, c.Transport(), topic, ktables.WithKeyFormat(hexKeys{}))
	if tbl.Len() != 2 || !tbl.Has("dead") || !tbl.Has("beef") || tbl.Stats().KeyDecodeErrors != 1 {
		t.Fatalf("K1 custom format: %v %+v", tbl.Snapshot(), tbl.Stats())
	}
}

// SPEC K1: WithKeyFormat is for flat tables and writers; grouped ones take
// WithKeyCodec. A nil format is an option error.
func TestKeyFormatK1Options(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	tr := c.Transport()
	if _, err := ktables.Open(ctx, tr, "t", ktables.Bytes(), ktables.WithKeyFormat(nil)); !errors.Is(err, ktables.ErrInvalidOption) {
		t.Errorf("nil key format: %v", err)
	}
	if _, err := ktables.OpenGrouped(ctx, tr, "t", ktables.Bytes(), ktables.WithKeyFormat(ktables.RawKeys())); !errors.Is(err, ktables.ErrInvalidOption) {
		t.Errorf("key format on a grouped table: %v", err)
	}
	if _, err := ktables.OpenGroupedWriter(ctx, tr, "t", ktables.Bytes(), ktables.WithKeyFormat(ktables.RawKeys())); !errors.Is(err, ktables.ErrInvalidOption) {
		t.Errorf("key format on a grouped writer: %v", err)
	}
	if n := c.Calls(memtransport.OpCreateTopic); n != 0 {
		t.Errorf("bad options reached the broker: %d", n)
	}
}
