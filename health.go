package ktables

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Health is a table's state as a health check sees it: lifecycle, lag,
// freshness and position (SPEC T3, T4). Table.Health returns it; a
// HealthHandler turns it into Kubernetes probe answers.
type Health struct {
	Topic  string
	Status Status
	// Live: the reader is running (the table is neither failed nor closed).
	Live bool
	// Err is what failed the table, nil otherwise.
	Err error
	// Lag is the total number of records behind the reported high
	// watermarks; see Table.Lag.
	Lag int64
	// Stale, MaxStaleness: see WithMaxStaleness.
	Stale        bool
	MaxStaleness time.Duration
	// LastFetch and HeadConfirmed: see Stats.
	LastFetch     time.Time
	HeadConfirmed time.Time
	// Position is the token of everything applied; see Table.Position.
	Position Token
	// TimestampType says whose clock stamps the records a table opened
	// WithTTL expires; see Table.TimestampType.
	TimestampType TimestampType
}

// Health returns the table's health, computed from memory.
func (t *Table[V]) Health() Health {
	st := t.Status()
	s := t.Stats()
	return Health{
		Topic:         t.topic,
		Status:        st,
		Live:          st != StatusFailed && st != StatusClosed,
		Err:           t.Err(),
		Lag:           s.Lag,
		Stale:         t.Stale(),
		MaxStaleness:  t.fresh.maxStale,
		LastFetch:     s.LastFetch,
		HeadConfirmed: s.HeadConfirmed,
		Position:      t.Position(),
		TimestampType: t.tsType,
	}
}

// HealthReporter is what a HealthHandler checks: *Table and *GroupedTable
// of any value type.
type HealthReporter interface {
	Health() Health
}

var (
	_ HealthReporter = (*Table[any])(nil)
	_ HealthReporter = (*GroupedTable[any])(nil)
)

// HealthConfig tunes readiness.
type HealthConfig struct {
	// MaxLag is the most records a ready table may be behind the high
	// watermarks its fetches report (Stats.Lag). 0 means no limit.
	MaxLag int64
}

// HealthHandler answers Kubernetes probes for one or more tables, with the
// standard library only:
//
//   - Readiness: every table is caught up (not loading, degraded, failed or
//     closed), not stale (WithMaxStaleness) and within HealthConfig.MaxLag.
//     A pod that is not ready gets no traffic but keeps running, and
//     becomes ready again by itself when the table recovers.
//   - Liveness: every table's reader is running (not failed or closed). A
//     failed table never recovers by itself (SPEC L2), so restarting the
//     pod is the remedy. A stale or lagging table is still live: restarting
//     does not heal a network partition.
//
// Both answer 200 or 503 with a JSON body giving, per table, status, lag,
// freshness, position and the reasons it is not ready. They compute
// everything from memory and never touch the network, so a probe cannot
// hang on a broker.
type HealthHandler struct {
	cfg    HealthConfig
	tables []HealthReporter
}

// NewHealthHandler returns a HealthHandler over tables. No table, a nil
// table or a negative MaxLag is an error matching ErrInvalidOption.
func NewHealthHandler(cfg HealthConfig, tables ...HealthReporter) (*HealthHandler, error) {
	if len(tables) == 0 {
		return nil, optionErr("NewHealthHandler", "no table to check")
	}
	for i, t := range tables {
		if t == nil {
			return nil, optionErr("NewHealthHandler", "table %d is nil", i)
		}
	}
	if cfg.MaxLag < 0 {
		return nil, optionErr("HealthConfig.MaxLag", "must not be negative, got %d", cfg.MaxLag)
	}
	return &HealthHandler{cfg: cfg, tables: append([]HealthReporter(nil), tables...)}, nil
}

// HealthReport is the result of one check of every table.
type HealthReport struct {
	Ready, Live bool
	Tables      []TableHealth
}

// TableHealth is one table's part of a HealthReport.
type TableHealth struct {
	Health
	Ready bool
	// NotReady says why the table is not ready, NotLive why it is not live.
	NotReady, NotLive []string
}

// Check evaluates every table now.
func (h *HealthHandler) Check() HealthReport {
	r := HealthReport{Ready: true, Live: true, Tables: make([]TableHealth, 0, len(h.tables))}
	for _, t := range h.tables {
		th := TableHealth{Health: t.Health()}
		if !th.Live {
			reason := "reader stopped: table " + th.Status.String()
			if th.Err != nil {
				reason += ": " + th.Err.Error()
			}
			th.NotLive = append(th.NotLive, reason)
		}
		if th.Status != StatusCaughtUp {
			th.NotReady = append(th.NotReady, "table "+th.Status.String())
		}
		if th.Stale {
			th.NotReady = append(th.NotReady, fmt.Sprintf("stale: head not confirmed for more than %s", th.MaxStaleness))
		}
		if h.cfg.MaxLag > 0 && th.Lag > h.cfg.MaxLag {
			th.NotReady = append(th.NotReady, fmt.Sprintf("lag %d exceeds %d", th.Lag, h.cfg.MaxLag))
		}
		th.Ready = len(th.NotReady) == 0
		r.Ready = r.Ready && th.Ready
		r.Live = r.Live && th.Live
		r.Tables = append(r.Tables, th)
	}
	return r
}

// Readiness returns the readiness probe handler.
func (h *HealthHandler) Readiness() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r := h.Check()
		h.serve(w, req, r, r.Ready, "ready", "not ready")
	})
}

// Liveness returns the liveness probe handler.
func (h *HealthHandler) Liveness() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r := h.Check()
		h.serve(w, req, r, r.Live, "live", "not live")
	})
}

// healthBody is the JSON a probe answers with.
type healthBody struct {
	Status string      `json:"status"`
	Tables []tableBody `json:"tables"`
}

type tableBody struct {
	Topic         string    `json:"topic"`
	Status        string    `json:"status"`
	Ready         bool      `json:"ready"`
	Live          bool      `json:"live"`
	NotReady      []string  `json:"not_ready,omitempty"`
	NotLive       []string  `json:"not_live,omitempty"`
	Lag           int64     `json:"lag"`
	Stale         bool      `json:"stale"`
	MaxStaleness  string    `json:"max_staleness,omitempty"`
	LastFetch     time.Time `json:"last_fetch,omitzero"`
	HeadConfirmed time.Time `json:"head_confirmed,omitzero"`
	Position      Token     `json:"position"`
	TimestampType string    `json:"timestamp_type,omitempty"` // when known (WithTTL)
}

func (h *HealthHandler) serve(w http.ResponseWriter, req *http.Request, r HealthReport, ok bool, yes, no string) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body := healthBody{Status: no, Tables: make([]tableBody, 0, len(r.Tables))}
	if ok {
		body.Status = yes
	}
	for _, t := range r.Tables {
		tb := tableBody{
			Topic: t.Topic, Status: t.Status.String(), Ready: t.Ready, Live: t.Live,
			NotReady: t.NotReady, NotLive: t.NotLive, Lag: t.Lag, Stale: t.Stale,
			LastFetch: t.LastFetch.UTC(), HeadConfirmed: t.HeadConfirmed.UTC(), Position: t.Position,
		}
		if t.MaxStaleness > 0 {
			tb.MaxStaleness = t.MaxStaleness.String()
		}
		if t.TimestampType != TimestampUnknown {
			tb.TimestampType = t.TimestampType.String()
		}
		body.Tables = append(body.Tables, tb)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	w.WriteHeader(code)
	if req.Method == http.MethodHead {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(body) // the client went away; nothing to do
}
