package ktables

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Position is where one record lives: its partition and offset. Writers
// return it for every acknowledged write (inside a Token) and change events
// carry it (SPEC T1, V3).
type Position struct {
	Partition int32
	Offset    int64
}

// Token proves where writes landed, so that a reader in any process can wait
// until its table shows them (SPEC T1, T2): a writer hands it out with every
// acknowledged write (Writer.SetWithToken), it travels as text in an HTTP
// header or gRPC metadata (String, ParseToken), and Table.WaitFor returns
// once the table applied every position in it.
//
// A token names one topic and holds at most one position per partition, the
// highest: waiting for offset 40 of a partition covers offset 12 of it too,
// since a partition is applied in order. The zero Token holds nothing and
// names no topic; waiting for it returns at once.
//
// A Token is a value: copies are independent, and Add and Merge never change
// a copy made before them.
type Token struct {
	topic string
	pos   []Position // ascending partition, one per partition, Offset >= 0
}

// tokenPrefix versions the text form, so that a later form can be told
// apart from this one.
const tokenPrefix = "kt1"

// NewToken returns a token for topic holding ps. Several positions of one
// partition keep the highest. A topic name Kafka would refuse, or a negative
// partition or offset, is an error matching ErrInvalidToken.
func NewToken(topic string, ps ...Position) (Token, error) {
	if err := ValidateTopicName(topic); err != nil {
		return Token{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	t := Token{topic: topic}
	for _, p := range ps {
		if err := checkPosition(p); err != nil {
			return Token{}, err
		}
	}
	t.pos = mergePositions(nil, ps)
	return t, nil
}

func checkPosition(p Position) error {
	if p.Partition < 0 || p.Offset < 0 {
		return fmt.Errorf("%w: negative position %d@%d", ErrInvalidToken, p.Partition, p.Offset)
	}
	return nil
}

// oneToken is the token of a single acknowledged write.
func oneToken(topic string, p Position) Token {
	return Token{topic: topic, pos: []Position{p}}
}

// Topic returns the topic the token is for; "" for the zero Token.
func (t Token) Topic() string { return t.topic }

// IsZero reports whether t is the zero Token: no topic, no positions.
func (t Token) IsZero() bool { return t.topic == "" && len(t.pos) == 0 }

// Len returns the number of partitions the token holds a position for.
func (t Token) Len() int { return len(t.pos) }

// Positions returns a copy of the token's positions, ascending by partition.
func (t Token) Positions() []Position { return slices.Clone(t.pos) }

// Offset returns the token's offset for partition p and whether it has one.
func (t Token) Offset(p int32) (int64, bool) {
	i, ok := slices.BinarySearchFunc(t.pos, p, func(x Position, p int32) int { return cmp.Compare(x.Partition, p) })
	if !ok {
		return 0, false
	}
	return t.pos[i].Offset, true
}

// Covers reports whether t is at or past every position of o: a table whose
// Position covers o has applied o. Tokens of different topics cover nothing,
// except that every token covers the zero Token.
func (t Token) Covers(o Token) bool {
	if o.IsZero() {
		return true
	}
	if t.topic != o.topic {
		return false
	}
	for _, p := range o.pos {
		if off, ok := t.Offset(p.Partition); !ok || off < p.Offset {
			return false
		}
	}
	return true
}

// Add records position p in t. Adding to the zero Token, which names no
// topic, is an error matching ErrInvalidToken; so is a negative position.
func (t *Token) Add(p Position) error {
	if t.topic == "" {
		return fmt.Errorf("%w: the zero Token names no topic; use NewToken", ErrInvalidToken)
	}
	if err := checkPosition(p); err != nil {
		return err
	}
	t.pos = mergePositions(t.pos, []Position{p})
	return nil
}

// Merge adds every position of o to t, keeping the highest per partition,
// so that one token covers several writes. Merging into the zero Token
// adopts o; merging the zero Token changes nothing. Tokens of different
// topics do not merge: the error matches ErrTokenTopic.
func (t *Token) Merge(o Token) error {
	switch {
	case o.IsZero():
		return nil
	case t.IsZero():
		*t = Token{topic: o.topic, pos: slices.Clone(o.pos)}
		return nil
	case t.topic != o.topic:
		return fmt.Errorf("%w: merging a token of %q into one of %q", ErrTokenTopic, o.topic, t.topic)
	}
	t.pos = mergePositions(t.pos, o.pos)
	return nil
}

// mergePositions returns a new sorted slice with the highest offset per
// partition of a (already sorted and unique) and b (any order). It never
// writes into a, so tokens copied before an Add or Merge keep their
// positions.
func mergePositions(a, b []Position) []Position {
	if len(b) == 0 {
		return a
	}
	out := make([]Position, 0, len(a)+len(b))
	out = append(out, a...)
	out = append(out, b...)
	slices.SortFunc(out, func(x, y Position) int {
		if c := cmp.Compare(x.Partition, y.Partition); c != 0 {
			return c
		}
		return cmp.Compare(y.Offset, x.Offset) // highest first, kept by Compact below
	})
	return slices.CompactFunc(out, func(x, y Position) bool { return x.Partition == y.Partition })
}

// String returns the token's text form, "" for the zero Token. The form is
// stable across versions and processes: "kt1:" then the topic, then
// ":partition=offset" per position in ascending partition order, all ASCII
// without spaces or commas, so it fits an HTTP header, gRPC metadata or a
// URL query value (after the usual escaping) as it is:
//
//	kt1:feature-flags:0=1523:3=88
func (t Token) String() string {
	b, _ := t.AppendText(nil)
	return string(b)
}

// AppendText appends the text form to b (encoding.TextAppender).
func (t Token) AppendText(b []byte) ([]byte, error) {
	if t.IsZero() {
		return b, nil
	}
	b = append(b, tokenPrefix...)
	b = append(b, ':')
	b = append(b, t.topic...)
	for _, p := range t.pos {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(p.Partition), 10)
		b = append(b, '=')
		b = strconv.AppendInt(b, p.Offset, 10)
	}
	return b, nil
}

// MarshalText returns the text form (encoding.TextMarshaler), so a Token
// can be a JSON field.
func (t Token) MarshalText() ([]byte, error) { return t.AppendText(nil) }

// UnmarshalText parses the text form (encoding.TextUnmarshaler); see
// ParseToken.
func (t *Token) UnmarshalText(text []byte) error {
	tok, err := ParseToken(string(text))
	if err != nil {
		return err
	}
	*t = tok
	return nil
}

// ParseToken parses the text form String returns. The empty string is the
// zero Token. Anything else String would not have produced — another
// prefix, an invalid topic name, a number with a sign or leading zeros, a
// partition out of order or repeated — is an error matching
// ErrInvalidToken, so a token has exactly one text form and never panics
// the parser, whatever it is given.
func ParseToken(s string) (Token, error) {
	if s == "" {
		return Token{}, nil
	}
	rest, ok := strings.CutPrefix(s, tokenPrefix+":")
	if !ok {
		return Token{}, tokenErr("does not start with %q", tokenPrefix+":")
	}
	topic, rest, more := strings.Cut(rest, ":")
	if err := ValidateTopicName(topic); err != nil {
		return Token{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	t := Token{topic: topic}
	if !more {
		return t, nil
	}
	t.pos = make([]Position, 0, strings.Count(rest, ":")+1)
	for field := range strings.SplitSeq(rest, ":") {
		ps, os, ok := strings.Cut(field, "=")
		if !ok {
			return Token{}, tokenErr("position %q is not partition=offset", clip(field))
		}
		p, err := parseCanonical(ps, 31)
		if err != nil {
			return Token{}, tokenErr("partition %q: %v", clip(ps), err)
		}
		off, err := parseCanonical(os, 63)
		if err != nil {
			return Token{}, tokenErr("offset %q: %v", clip(os), err)
		}
		if n := len(t.pos); n > 0 && int64(t.pos[n-1].Partition) >= p {
			return Token{}, tokenErr("partition %d is out of order or repeated", p)
		}
		t.pos = append(t.pos, Position{Partition: int32(p), Offset: off})
	}
	return t, nil
}

// parseCanonical parses a non-negative decimal below 2^bits written the one
// way AppendInt writes it: digits only, no leading zeros.
func parseCanonical(s string, bits int) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("leading zero")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("not a decimal number")
		}
	}
	n, err := strconv.ParseInt(s, 10, bits+1)
	if err != nil {
		return 0, fmt.Errorf("out of range")
	}
	return n, nil
}

func tokenErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, fmt.Sprintf(format, args...))
}

// clip keeps error messages short whatever a malformed token holds.
func clip(s string) string { return truncate(s, 32) }
