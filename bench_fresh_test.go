package ktables_test

import (
	"context"
	"testing"

	"github.com/ktables/ktables"
)

// BenchmarkWaitForApplied: WaitFor on a token the table already applied
// (target ≤ 1 µs, no allocation), for a one-write token and for a token
// naming every partition (a Table.Position of a 4-partition topic).
func BenchmarkWaitForApplied(b *testing.B) {
	_, tbl := benchTable(b, 1000)
	ctx := context.Background()
	one, err := ktables.NewToken("bench", ktables.Position{Partition: 2, Offset: 10})
	if err != nil {
		b.Fatal(err)
	}
	for name, tok := range map[string]ktables.Token{"one": one, "all": tbl.Position()} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := tbl.WaitFor(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseToken: the text form of a 16-partition token back to a
// Token, as a server does per request.
func BenchmarkParseToken(b *testing.B) {
	ps := make([]ktables.Position, 16)
	for i := range ps {
		ps[i] = ktables.Position{Partition: int32(i), Offset: 1_000_000 + int64(i)}
	}
	tok, err := ktables.NewToken("feature-flags", ps...)
	if err != nil {
		b.Fatal(err)
	}
	s := tok.String()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ktables.ParseToken(s); err != nil {
			b.Fatal(err)
		}
	}
}
