package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/ktables/ktables"
)

// tokenFlag is --wait-for: write tokens (as "set --print-token" prints
// them), merged when the flag is repeated.
type tokenFlag struct{ tok ktables.Token }

func (f *tokenFlag) String() string {
	if f == nil {
		return ""
	}
	return f.tok.String()
}

// Set parses one token. A malformed one is an error matching
// ErrInvalidToken, which the flag package turns into a usage error.
func (f *tokenFlag) Set(s string) error {
	tok, err := ktables.ParseToken(s)
	if err != nil {
		return err
	}
	if tok.IsZero() {
		return fmt.Errorf("%w: empty", ktables.ErrInvalidToken)
	}
	return f.tok.Merge(tok)
}

// registerWaitFor adds --wait-for to a reading command.
func (t *tableFlags) registerWaitFor(fs *flags) {
	fs.Var(&t.waitFor, "wait-for", "a write `TOKEN` (from 'ktables set --print-token' or a writer's SetWithToken):\n"+
		"first wait until the table applied that write, within --timeout; repeat to wait for several")
}

// waitForToken waits, after catch-up, until the table applied --wait-for.
// It uses the checking variant: a token ahead of the topic (forged, from
// another cluster, or from before the topic was re-created) is an error at
// once rather than a wait until --timeout.
func (t *tableFlags) waitForToken(ctx context.Context, tb *table) error {
	tok := t.waitFor.tok
	if tok.IsZero() {
		return nil
	}
	err := tb.WaitForChecked(ctx, tok)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ktables.ErrTokenAhead):
		return fmt.Errorf("--wait-for %s: the topic has no such write (a token from another cluster, or from before the topic was re-created?): %w", tok, err)
	}
	return t.explain(ctx, fmt.Sprintf("waiting for token %s", tok), err)
}
