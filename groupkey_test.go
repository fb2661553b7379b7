package ktables_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ktables/ktables"
)

type groupedVectors struct {
	Encode []struct {
		Group  string `json:"group"`
		Member string `json:"member"`
		Key    string `json:"key"`
		KeyHex string `json:"key_hex"`
	} `json:"encode"`
	Decode []struct {
		Key     string    `json:"key"`
		Decoded *[]string `json:"decoded"`
	} `json:"decode"`
}

// SPEC G1, G2: vectors produced by the Python library's codec.
func TestKeyCodecPythonVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/grouped_keys.json")
	if err != nil {
		t.Fatal(err)
	}
	var v groupedVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	kc := ktables.DefaultKeyCodec
	for _, e := range v.Encode {
		want, _ := hex.DecodeString(e.KeyHex)
		got, err := kc.Encode(e.Group, e.Member)
		if err != nil || got != string(want) || got != e.Key {
			t.Errorf("G1 Encode(%q, %q) = %q, %v; want %q", e.Group, e.Member, got, err, want)
		}
		g, m, ok := kc.Decode(got)
		if !ok || g != e.Group || m != e.Member {
			t.Errorf("G1 Decode(%q) = %q, %q, %v", got, g, m, ok)
		}
	}
	for _, d := range v.Decode {
		g, m, ok := kc.Decode(d.Key)
		switch {
		case d.Decoded == nil && ok:
			t.Errorf("G2 foreign key %q decoded as (%q, %q)", d.Key, g, m)
		case d.Decoded != nil && (!ok || g != (*d.Decoded)[0] || m != (*d.Decoded)[1]):
			t.Errorf("G2 Decode(%q) = %q, %q, %v; want %q", d.Key, g, m, ok, *d.Decoded)
		}
	}
}

// SPEC G2: every foreign shape is rejected.
func TestKeyCodecForeignKeys(t *testing.T) {
	foreign := []string{
		"",         // empty
		"nocolon",  // no separator
		"7billing", // digits, no separator
		":abc",     // no length
		"01:x",     // leading zero
		"00:",      // leading zero
		"-1:x",     // sign
		"+1:x",     // sign
		"١:x",      // Arabic-Indic digit
		"5:abc",    // length longer than the rest
		"2:ü",      // length in code points longer than the rest
		"1 :x",     // space
		"99999999999999999999999999:x",
		"1:\xff",  // invalid UTF-8
		"\xff1:x", // invalid UTF-8
	}
	for _, k := range foreign {
		if g, m, ok := ktables.DefaultKeyCodec.Decode(k); ok {
			t.Errorf("G2 %q decoded as (%q, %q)", k, g, m)
		}
	}
}

// SPEC G1: decode(encode(g, m)) == (g, m) and encode is injective, over
// random valid UTF-8 including separators, digits and empty strings.
func TestKeyCodecRoundTripProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []rune{'a', 'b', ':', '0', '1', '9', 'ü', '日', '🙂', '\t', ' ', '-'}
	randStr := func() string {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	seen := map[string][2]string{}
	for _, sep := range []string{":", "|", "::", "→"} {
		kc, err := ktables.NewLengthPrefixed(sep)
		if err != nil {
			t.Fatal(err)
		}
		clear(seen)
		for range 20000 {
			g, m := randStr(), randStr()
			k, err := kc.Encode(g, m)
			if err != nil {
				t.Fatal(err)
			}
			if prev, ok := seen[k]; ok && prev != [2]string{g, m} {
				t.Fatalf("G1 not injective (sep %q): %q from %q and %q", sep, k, prev, [2]string{g, m})
			}
			seen[k] = [2]string{g, m}
			dg, dm, ok := kc.Decode(k)
			if !ok || dg != g || dm != m {
				t.Fatalf("G1 round trip (sep %q) %q,%q -> %q -> %q,%q,%v", sep, g, m, k, dg, dm, ok)
			}
		}
	}
}

func TestKeyCodecInvalidInput(t *testing.T) {
	if _, err := ktables.DefaultKeyCodec.Encode("\xff", "m"); !errors.Is(err, ktables.ErrInvalidKey) {
		t.Errorf("invalid group: %v", err)
	}
	if _, err := ktables.DefaultKeyCodec.Encode("g", "\xc3"); !errors.Is(err, ktables.ErrInvalidKey) {
		t.Errorf("invalid member: %v", err)
	}
	for _, sep := range []string{"", "1", "\xff"} {
		if _, err := ktables.NewLengthPrefixed(sep); !errors.Is(err, ktables.ErrInvalidOption) {
			t.Errorf("separator %q: %v", sep, err)
		}
	}
}

// SPEC G2: a million-digit prefix costs O(len), and here far less: the parse
// is bounded before it runs.
func TestKeyCodecHugePrefixIsCheap(t *testing.T) {
	key := strings.Repeat("9", 1<<20) + ":x"
	start := time.Now()
	for range 100 {
		if _, _, ok := ktables.DefaultKeyCodec.Decode(key); ok {
			t.Fatal("G2 huge prefix decoded")
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("G2 100 decodes of a 1 MB prefix took %v", d)
	}
}

func FuzzKeyCodec(f *testing.F) {
	f.Add("billing", "host-a", "7:billinghost-a")
	f.Add("ü", "x", "01:x")
	f.Add("", "", "99999999999999999999:x")
	f.Add("1:x", "y", "١:x")
	f.Fuzz(func(t *testing.T, group, member, raw string) {
		kc := ktables.DefaultKeyCodec
		// Arbitrary input never panics, and what decodes re-encodes to itself.
		if g, m, ok := kc.Decode(raw); ok {
			back, err := kc.Encode(g, m)
			if err != nil || back != raw {
				t.Fatalf("Decode(%q) = %q, %q but Encode gives %q, %v", raw, g, m, back, err)
			}
		}
		if !utf8.ValidString(group) || !utf8.ValidString(member) {
			if _, err := kc.Encode(group, member); !errors.Is(err, ktables.ErrInvalidKey) {
				t.Fatalf("invalid UTF-8 accepted: %v", err)
			}
			return
		}
		k, err := kc.Encode(group, member)
		if err != nil {
			t.Fatal(err)
		}
		g, m, ok := kc.Decode(k)
		if !ok || g != group || m != member {
			t.Fatalf("round trip %q,%q -> %q -> %q,%q,%v", group, member, k, g, m, ok)
		}
	})
}

func BenchmarkKeyCodecDecode(b *testing.B) {
	key := "7:billinghost-a"
	for b.Loop() {
		ktables.DefaultKeyCodec.Decode(key)
	}
}

// BenchmarkKeyCodecDecodeHugePrefix shows the bound on prefix parsing: a
// 1 MB digit prefix is rejected in nanoseconds (SPEC G2).
func BenchmarkKeyCodecDecodeHugePrefix(b *testing.B) {
	key := strings.Repeat("1", 1<<20) + ":x"
	for b.Loop() {
		if _, _, ok := ktables.DefaultKeyCodec.Decode(key); ok {
			b.Fatal("decoded")
		}
	}
}

// The ASCII fast path of Decode hands over to rune counting when a
// group's code points are not all one byte, wherever the first wide one is.
func TestLengthPrefixedDecodeMixedWidthGroups(t *testing.T) {
	for _, c := range []struct{ key, group, member string }{
		{"3:abühost", "abü", "host"},
		{"3:übchost", "übc", "host"},
		{"2:a€€", "a€", "€"},
		{"4:abcdé", "abcd", "é"},
	} {
		g, m, ok := ktables.DefaultKeyCodec.Decode(c.key)
		if !ok || g != c.group || m != c.member {
			t.Errorf("Decode(%q) = %q, %q, %v; want %q, %q", c.key, g, m, ok, c.group, c.member)
		}
	}
}
