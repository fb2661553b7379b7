package ktables

import (
	"encoding/json"
	"unsafe"
)

// Codec turns values into record bytes and back (SPEC C1).
//
// Decode receives the record's bytes, which nothing modifies. The table
// copies the values of Bytes and String into storage of its own (ADR 15); a
// codec of yours that keeps b instead of decoding out of it should copy it,
// or each value pins the client's fetch buffer it came in. Decoded values
// are stored once and shared by reference between the table and every
// reader (SPEC C2): do not modify a value you read from a table.
//
// A codec for protobuf or Avro is a few lines:
//
//	type protoCodec[M proto.Message] struct{ new func() M }
//	func (c protoCodec[M]) Encode(m M) ([]byte, error) { return proto.Marshal(m) }
//	func (c protoCodec[M]) Decode(b []byte) (M, error) { m := c.new(); return m, proto.Unmarshal(b, m) }
type Codec[V any] interface {
	Encode(v V) ([]byte, error)
	Decode(b []byte) (V, error)
}

// Bytes is the identity codec: values are the record bytes themselves. The
// table keeps each key and value in one allocation of its own, copied once
// from the fetched record.
func Bytes() Codec[[]byte] { return bytesCodec{} }

// String stores values as UTF-8 strings (not validated: any bytes decode).
func String() Codec[string] { return stringCodec{} }

// JSON encodes values with encoding/json. Records written by the Python
// library's JSON presets decode, and records written here decode there,
// with two differences of encoding/json worth knowing (see the example):
//
//   - A nil slice or map is written as null. A Python pydantic model rejects
//     null for a list or dict field (an Optional field accepts it). Give such
//     fields a non-nil empty value ([]string{}), or tag them omitempty so
//     the field is left out and the Python model's default applies.
//   - <, > and & in strings are escaped as \u003c, \u003e and \u0026. This
//     is standard JSON: every reader, Python's json included, decodes it to
//     the same string, so it is harmless.
func JSON[V any]() Codec[V] { return jsonCodec[V]{} }

type bytesCodec struct{}

func (bytesCodec) Encode(v []byte) ([]byte, error) { return v, nil }
func (bytesCodec) Decode(b []byte) ([]byte, error) { return b, nil }

type stringCodec struct{}

func (stringCodec) Encode(v string) ([]byte, error) { return []byte(v), nil }

// Decode aliases b, which nothing modifies: exactly what a Go string needs.
// The table hands it its own copy of the record's value (ADR 15).
func (stringCodec) Decode(b []byte) (string, error) {
	return unsafe.String(unsafe.SliceData(b), len(b)), nil
}

type jsonCodec[V any] struct{}

func (jsonCodec[V]) Encode(v V) ([]byte, error) { return json.Marshal(v) }

func (jsonCodec[V]) Decode(b []byte) (V, error) {
	var v V
	err := json.Unmarshal(b, &v)
	return v, err
}
