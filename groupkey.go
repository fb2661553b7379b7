package ktables

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// KeyCodec maps a (group, member) pair to a flat record key and back, for
// grouped tables. Encode must be injective; Decode reports ok=false for keys
// that are not in its scheme ("foreign" keys), which grouped tables skip and
// count (SPEC G2).
type KeyCodec interface {
	Encode(group, member string) (string, error)
	Decode(key string) (group, member string, ok bool)
}

// LengthPrefixed is the default KeyCodec, byte for byte the Python library's
// format (SPEC G1): the decimal length of the group in Unicode code points,
// the separator, the group, then the member. ("billing", "host-a") is
// "7:billinghost-a" and ("ü", "x") is "1:üx". It is injective for all valid
// UTF-8, including empty groups and members.
type LengthPrefixed struct {
	sep string
}

// DefaultKeyCodec is LengthPrefixed with the separator ":".
var DefaultKeyCodec KeyCodec = LengthPrefixed{sep: ":"}

// NewLengthPrefixed returns a LengthPrefixed codec with the given separator.
// The separator must be valid, non-empty UTF-8 and must not start with an
// ASCII digit (which would make the length prefix ambiguous).
func NewLengthPrefixed(sep string) (LengthPrefixed, error) {
	switch {
	case sep == "":
		return LengthPrefixed{}, optionErr("separator", "empty")
	case !utf8.ValidString(sep):
		return LengthPrefixed{}, optionErr("separator", "%q is not valid UTF-8", sep)
	case sep[0] >= '0' && sep[0] <= '9':
		return LengthPrefixed{}, optionErr("separator", "%q starts with a digit", sep)
	}
	return LengthPrefixed{sep: sep}, nil
}

// Encode returns the composite key. Group and member must be valid UTF-8;
// otherwise the error matches ErrInvalidKey.
func (c LengthPrefixed) Encode(group, member string) (string, error) {
	if !utf8.ValidString(group) {
		return "", fmt.Errorf("%w: group %q is not valid UTF-8", ErrInvalidKey, group)
	}
	if !utf8.ValidString(member) {
		return "", fmt.Errorf("%w: member %q is not valid UTF-8", ErrInvalidKey, member)
	}
	sep := c.separator()
	n := utf8.RuneCountInString(group)
	buf := make([]byte, 0, 20+len(sep)+len(group)+len(member))
	buf = strconv.AppendInt(buf, int64(n), 10)
	buf = append(buf, sep...)
	buf = append(buf, group...)
	buf = append(buf, member...)
	return string(buf), nil
}

// Decode splits a composite key. It rejects, as foreign: invalid UTF-8, no
// separator, a prefix that is not canonical ASCII decimal (empty, a sign,
// leading zeros, other digits such as "١"), and a length longer than the rest
// of the key. The prefix is bounded before it is parsed, so any input costs
// time linear in the part of it that is read. The returned strings alias key.
func (c LengthPrefixed) Decode(key string) (group, member string, ok bool) {
	sep := c.separator()
	// A group of n code points needs at least n bytes after the prefix, so a
	// valid prefix has no more digits than len(key) has.
	maxDigits := decimalDigits(len(key))
	i := 0
	for i < len(key) && i <= maxDigits && key[i] >= '0' && key[i] <= '9' {
		i++
	}
	if i == 0 || i > maxDigits || (key[0] == '0' && i > 1) {
		return "", "", false
	}
	if len(key)-i < len(sep) || key[i:i+len(sep)] != sep {
		return "", "", false
	}
	n, err := strconv.Atoi(key[:i])
	if err != nil {
		return "", "", false
	}
	rest := key[i+len(sep):]
	if n > len(rest) || !utf8.ValidString(rest) {
		return "", "", false
	}
	end := 0
	for j := 0; j < n; j++ {
		if end >= len(rest) {
			return "", "", false
		}
		_, size := utf8.DecodeRuneInString(rest[end:])
		end += size
	}
	return rest[:end], rest[end:], true
}

func (c LengthPrefixed) separator() string {
	if c.sep == "" {
		return ":" // the zero value behaves as the default
	}
	return c.sep
}

func decimalDigits(n int) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}
