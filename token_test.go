package ktables_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ktables/ktables"
)

func mustToken(t testing.TB, topic string, ps ...ktables.Position) ktables.Token {
	t.Helper()
	tok, err := ktables.NewToken(topic, ps...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// SPEC T1: the text form is compact, stable and parses back to the same
// token.
func TestTokenTextRoundTrip(t *testing.T) {
	tok := mustToken(t, "feature-flags",
		ktables.Position{Partition: 3, Offset: 88}, ktables.Position{Partition: 0, Offset: 1523},
		ktables.Position{Partition: 3, Offset: 12}) // lower offset of a partition already held: dropped
	const want = "kt1:feature-flags:0=1523:3=88"
	if got := tok.String(); got != want {
		t.Fatalf("T1 text form %q, want %q", got, want)
	}
	back, err := ktables.ParseToken(want)
	if err != nil {
		t.Fatal(err)
	}
	if back.String() != want || back.Topic() != "feature-flags" || back.Len() != 2 {
		t.Fatalf("T1 round trip: %v", back)
	}
	if off, ok := back.Offset(3); !ok || off != 88 {
		t.Fatalf("offset of 3: %d %v", off, ok)
	}
	if _, ok := back.Offset(1); ok {
		t.Fatal("partition 1 is not in the token")
	}
	// The zero token is the empty string both ways; a topic without
	// positions is valid (the Position of an empty table).
	if (ktables.Token{}).String() != "" {
		t.Fatal("zero token text")
	}
	if z, err := ktables.ParseToken(""); err != nil || !z.IsZero() {
		t.Fatalf("empty text: %v %v", z, err)
	}
	if e, err := ktables.ParseToken("kt1:t"); err != nil || e.Topic() != "t" || e.Len() != 0 || e.IsZero() {
		t.Fatalf("topic only: %v %v", e, err)
	}
	// JSON carries the text form.
	b, err := json.Marshal(map[string]ktables.Token{"tok": tok})
	if err != nil || string(b) != `{"tok":"`+want+`"}` {
		t.Fatalf("JSON %s %v", b, err)
	}
	var m map[string]ktables.Token
	if err := json.Unmarshal(b, &m); err != nil || m["tok"].String() != want {
		t.Fatalf("JSON back %v %v", m, err)
	}
}

// SPEC T1: a token accumulates positions; Add and Merge never change a copy
// made before them.
func TestTokenAccumulates(t *testing.T) {
	var acc ktables.Token
	if err := acc.Add(ktables.Position{}); !errors.Is(err, ktables.ErrInvalidToken) {
		t.Fatalf("Add to the zero token: %v", err)
	}
	a := mustToken(t, "t", ktables.Position{Partition: 1, Offset: 5})
	if err := acc.Merge(a); err != nil || acc.String() != "kt1:t:1=5" {
		t.Fatalf("merge into zero: %v %v", acc, err)
	}
	before := acc
	if err := acc.Add(ktables.Position{Partition: 1, Offset: 9}); err != nil {
		t.Fatal(err)
	}
	if err := acc.Merge(mustToken(t, "t", ktables.Position{Partition: 0, Offset: 2}, ktables.Position{Partition: 1, Offset: 7})); err != nil {
		t.Fatal(err)
	}
	if acc.String() != "kt1:t:0=2:1=9" {
		t.Fatalf("accumulated %v", acc)
	}
	if before.String() != "kt1:t:1=5" || a.String() != "kt1:t:1=5" {
		t.Fatalf("a copy changed: %v %v", before, a)
	}
	if err := acc.Merge(mustToken(t, "other", ktables.Position{})); !errors.Is(err, ktables.ErrTokenTopic) {
		t.Fatalf("merging another topic: %v", err)
	}
	if err := acc.Merge(ktables.Token{}); err != nil || acc.String() != "kt1:t:0=2:1=9" {
		t.Fatalf("merging the zero token: %v %v", acc, err)
	}
	if err := acc.Add(ktables.Position{Partition: -1}); !errors.Is(err, ktables.ErrInvalidToken) {
		t.Fatalf("negative partition: %v", err)
	}
	if !acc.Covers(a) || !acc.Covers(before) || a.Covers(acc) || !a.Covers(ktables.Token{}) {
		t.Fatal("Covers")
	}
	if got := acc.Positions(); !slices.Equal(got, []ktables.Position{{0, 2}, {1, 9}}) {
		t.Fatalf("positions %v", got)
	}
	if _, err := ktables.NewToken("bad topic"); !errors.Is(err, ktables.ErrInvalidToken) {
		t.Fatalf("NewToken with an invalid topic: %v", err)
	}
}

// SPEC T1: malformed text is ErrInvalidToken; every token has one text
// form.
func TestParseTokenRejects(t *testing.T) {
	for _, s := range []string{
		"kt1", "kt1:", "kt2:t:0=1", "KT1:t", "t:0=1", "kt1:bad topic", "kt1:t:", "kt1:t::0=1",
		"kt1:t:0", "kt1:t:0=", "kt1:t:=1", "kt1:t:0=1=2", "kt1:t:-1=0", "kt1:t:0=-1", "kt1:t:+1=0",
		"kt1:t:01=0", "kt1:t:0=01", "kt1:t:1=0:0=0", "kt1:t:0=0:0=1", "kt1:t:2147483648=0",
		"kt1:t:0=9223372036854775808", "kt1:t:0=1 ", " kt1:t", "kt1:t:0=1,1=2", "kt1:" + strings.Repeat("a", 250),
		"kt1:t:0=0x1", "kt1:t:٣=1",
	} {
		if tok, err := ktables.ParseToken(s); !errors.Is(err, ktables.ErrInvalidToken) {
			t.Errorf("T1 ParseToken(%q) = %v, %v; want ErrInvalidToken", s, tok, err)
		}
	}
	if _, err := ktables.ParseToken("kt1:t:2147483647=9223372036854775807"); err != nil {
		t.Errorf("largest partition and offset: %v", err)
	}
	var tok ktables.Token
	if err := tok.UnmarshalText([]byte("kt1:t:x")); !errors.Is(err, ktables.ErrInvalidToken) {
		t.Errorf("UnmarshalText: %v", err)
	}
}

// SPEC T1: the parser never panics, and what it accepts it prints back
// byte for byte.
func FuzzParseToken(f *testing.F) {
	for _, s := range []string{
		"", "kt1:t", "kt1:feature-flags:0=1523:3=88", "kt1:t:0=0", "kt1:t:01=0", "kt1:t:1=0:0=0",
		"kt1:t:2147483647=9223372036854775807", "kt1:a.b_c-d:0=1:1=2:2=3", "kt1::0=1", "kt1:t:0=1:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ktables.ParseToken(s)
		if err != nil {
			if !errors.Is(err, ktables.ErrInvalidToken) {
				t.Fatalf("error %v does not match ErrInvalidToken", err)
			}
			return
		}
		if got := tok.String(); got != s {
			t.Fatalf("accepted %q but prints %q", s, got)
		}
		ps := tok.Positions()
		for i := 1; i < len(ps); i++ {
			if ps[i-1].Partition >= ps[i].Partition {
				t.Fatalf("positions out of order: %v", ps)
			}
		}
	})
}
