package ktables

import "context"

// The token-returning writes are variants rather than a second result of
// Set and Delete: most callers only need to know the write was
// acknowledged, and `err := w.Set(ctx, k, v)` stays as short as it was. A
// caller that hands a proof of its write to another process — a control
// plane answering "flag flipped" with a token the data plane can wait for —
// asks for it by name.

// SetWithToken is Set, returning the token of the acknowledged record: pass
// it (as text, Token.String) to any process whose table must show the write,
// and call Table.WaitFor there (SPEC T1). Merge tokens to cover several
// writes. On error the token is the zero Token.
func (w *Writer[V]) SetWithToken(ctx context.Context, key string, value V) (Token, error) {
	p, err := w.set(ctx, key, value)
	if err != nil {
		return Token{}, err
	}
	return oneToken(w.topic, p), nil
}

// DeleteWithToken is Delete, returning the token of the acknowledged
// tombstone; see SetWithToken.
func (w *Writer[V]) DeleteWithToken(ctx context.Context, key string) (Token, error) {
	p, err := w.write(ctx, key, nil)
	if err != nil {
		return Token{}, err
	}
	return oneToken(w.topic, p), nil
}

// SetWithToken is Set, returning the token of the acknowledged record; see
// Writer.SetWithToken.
func (g *GroupedWriter[V]) SetWithToken(ctx context.Context, group, member string, value V) (Token, error) {
	key, err := g.kc.Encode(group, member)
	if err != nil {
		return Token{}, err
	}
	return g.w.SetWithToken(ctx, key, value)
}

// DeleteWithToken is Delete, returning the token of the acknowledged
// tombstone; see Writer.SetWithToken.
func (g *GroupedWriter[V]) DeleteWithToken(ctx context.Context, group, member string) (Token, error) {
	key, err := g.kc.Encode(group, member)
	if err != nil {
		return Token{}, err
	}
	return g.w.DeleteWithToken(ctx, key)
}
