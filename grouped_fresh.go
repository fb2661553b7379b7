package ktables

import (
	"context"
	"time"
)

// WaitFor returns once the table applied every position of tok; see
// Table.WaitFor.
func (g *GroupedTable[V]) WaitFor(ctx context.Context, tok Token) error { return g.t.WaitFor(ctx, tok) }

// WaitForChecked is WaitFor for tokens that may not be genuine; see
// Table.WaitForChecked.
func (g *GroupedTable[V]) WaitForChecked(ctx context.Context, tok Token) error {
	return g.t.WaitForChecked(ctx, tok)
}

// Position returns the token of everything the table has applied; see
// Table.Position.
func (g *GroupedTable[V]) Position() Token { return g.t.Position() }

// Lag returns every partition's lag; see Table.Lag.
func (g *GroupedTable[V]) Lag() []PartitionLag { return g.t.Lag() }

// Stale reports whether the table is stale; see Table.Stale.
func (g *GroupedTable[V]) Stale() bool { return g.t.Stale() }

// MaxStaleness returns the WithMaxStaleness setting, 0 when off.
func (g *GroupedTable[V]) MaxStaleness() time.Duration { return g.t.MaxStaleness() }

// Health reports the table's health; see Table.Health.
func (g *GroupedTable[V]) Health() Health { return g.t.Health() }
