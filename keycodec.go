package ktables

import (
	"fmt"
	"unicode/utf8"
	"unsafe"
)

// KeyFormat turns the record keys of a flat table's topic into the table's
// string keys and back (SPEC K1): the Python library's key decoder and
// encoder. The default, UTF8Keys, is that library's default, so Go and
// Python readers of one topic hold the same map. Grouped tables do not take
// a KeyFormat: their KeyCodec (WithKeyCodec) is their key format.
type KeyFormat interface {
	// DecodeKey returns the table key of a record key. An error skips the
	// record, counted in Stats.KeyDecodeErrors; the entry the key had stays.
	// key belongs to the table and is never modified, so the string
	// returned may alias it (unsafe.String) instead of copying. A panic
	// counts as an error.
	DecodeKey(key []byte) (string, error)
	// EncodeKey returns the record key a writer sends for key. An error is
	// returned by Set and Delete, matching ErrInvalidKey, and nothing is
	// sent.
	EncodeKey(key string) ([]byte, error)
}

// UTF8Keys is the default key format: keys are UTF-8 text. A record key that
// is not valid UTF-8 is skipped and counted in Stats.KeyDecodeErrors, as the
// Python library's default decoder fails on it; a writer refuses such a key.
func UTF8Keys() KeyFormat { return utf8Keys{} }

// RawKeys takes record keys as they are: any bytes make a key (the string
// holds the bytes, valid UTF-8 or not) and a writer sends a key's bytes
// unchecked. Use it for topics whose keys are binary; a Python reader of
// such a topic needs a bytes key decoder too.
func RawKeys() KeyFormat { return rawKeys{} }

// WithKeyFormat sets how a flat table decodes record keys and a flat writer
// encodes them (default UTF8Keys). Grouped tables and writers take
// WithKeyCodec instead.
func WithKeyFormat(f KeyFormat) Option {
	return newOption("WithKeyFormat", scopeFlat, func(c *config) error {
		if f == nil {
			return fmt.Errorf("nil key format")
		}
		c.keyFormat = f
		return nil
	})
}

type utf8Keys struct{}

func (utf8Keys) DecodeKey(b []byte) (string, error) {
	if !utf8.Valid(b) {
		return "", fmt.Errorf("key %q is not valid UTF-8", b)
	}
	return aliasString(b), nil
}

func (utf8Keys) EncodeKey(k string) ([]byte, error) {
	if !utf8.ValidString(k) {
		return nil, fmt.Errorf("key %q is not valid UTF-8", k)
	}
	return []byte(k), nil
}

type rawKeys struct{}

func (rawKeys) DecodeKey(b []byte) (string, error) { return aliasString(b), nil }
func (rawKeys) EncodeKey(k string) ([]byte, error) { return []byte(k), nil }

// aliasString views record bytes the table owns, which are immutable (see
// transport's ownership rule), as a string without copying.
func aliasString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// decodeKey applies f to a record key; ok is false when the key is to be
// skipped as undecodable. The built-in formats are called directly; a
// user's format is shielded so that its panic skips one record instead of
// killing the reader.
func decodeKey(f KeyFormat, b []byte) (key string, ok bool) {
	switch f.(type) {
	case utf8Keys:
		return aliasString(b), utf8.Valid(b)
	case rawKeys:
		return aliasString(b), true
	}
	defer func() {
		if recover() != nil {
			key, ok = "", false
		}
	}()
	key, err := f.DecodeKey(b)
	return key, err == nil
}

// aliasBytes views a key string as the record key bytes a writer sends,
// without copying: transports only read what Produce is given (see
// transport's ownership rule). The empty key stays non-nil: nil is keyless.
func aliasBytes(s string) []byte {
	if len(s) == 0 {
		return []byte{}
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// encodeKey applies f to a writer's key. The built-in formats are called
// directly and send the key's own bytes (a copy per write was the writer's
// only allocation); a user's format is shielded so that its panic is an
// error.
func encodeKey(f KeyFormat, key string) (b []byte, err error) {
	switch f.(type) {
	case utf8Keys:
		if !utf8.ValidString(key) {
			return nil, fmt.Errorf("%w: key %q is not valid UTF-8", ErrInvalidKey, key)
		}
		return aliasBytes(key), nil
	case rawKeys:
		return aliasBytes(key), nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: key format panicked on %q: %v", ErrInvalidKey, key, p)
		}
	}()
	b, err = f.EncodeKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	if b == nil {
		// A nil key is keyless (SPEC R2): no reader would ever see it.
		return nil, fmt.Errorf("%w: key format encoded %q as a nil key", ErrInvalidKey, key)
	}
	return b, nil
}
