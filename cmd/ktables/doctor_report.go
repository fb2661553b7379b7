package main

import (
	"fmt"
	"io"
	"strings"
)

// Finding statuses, from fine to wrong.
const (
	statusOK         = "ok"
	statusInfo       = "info"
	statusNotChecked = "not checked"
	statusWarning    = "warning"
	statusProblem    = "problem"
)

// report is the doctor's output; its JSON form is for scripts.
type report struct {
	Topic      string    `json:"topic"`
	Brokers    string    `json:"brokers"`
	Client     string    `json:"client"`
	Grouped    bool      `json:"grouped"`
	Partitions int       `json:"partitions"`
	Records    int64     `json:"records"`
	LiveKeys   int       `json:"live_keys"`
	Counts     counts    `json:"counts"`
	Checks     []finding `json:"checks"`
	Problems   int       `json:"problems"`
	Warnings   int       `json:"warnings"`
}

// counts are the record kinds the scan found.
type counts struct {
	Tombstones         int64   `json:"tombstones"`
	EmptyValues        int64   `json:"empty_values"`
	Keyless            int64   `json:"keyless"`
	UndecodableKeys    int64   `json:"undecodable_keys"`
	UndecodableValues  int64   `json:"undecodable_values"`
	ValuesChecked      bool    `json:"values_checked"`
	ForeignKeys        int     `json:"foreign_keys"`
	KeysInManyParts    int     `json:"keys_in_more_than_one_partition"`
	MisroutedKeys      int     `json:"misrouted_keys"`
	PerPartitionRecord []int64 `json:"records_per_partition"`
}

// finding is the outcome of one check.
type finding struct {
	Check   string       `json:"check"`
	Status  string       `json:"status"`
	Message string       `json:"message"`
	Keys    []keyFinding `json:"keys,omitempty"`
}

// keyFinding is an example key behind a finding.
type keyFinding struct {
	Key        string  `json:"key"`
	Partitions []int32 `json:"partitions"`
	Expected   int32   `json:"expected_partition"`
	Cause      string  `json:"likely_cause"`
}

func (r *report) add(check, status, format string, args ...any) *finding {
	r.Checks = append(r.Checks, finding{Check: check, Status: status, Message: fmt.Sprintf(format, args...)})
	return &r.Checks[len(r.Checks)-1]
}

func (r *report) tally() {
	r.Problems, r.Warnings = 0, 0
	for _, f := range r.Checks {
		switch f.Status {
		case statusProblem:
			r.Problems++
		case statusWarning:
			r.Warnings++
		}
	}
}

func (r *report) writeHuman(w io.Writer) error {
	var b strings.Builder
	kind := "table"
	if r.Grouped {
		kind = "grouped table"
	}
	fmt.Fprintf(&b, "doctor: topic %q on %s (%s client) as a %s: %s, %s read, %s live\n",
		r.Topic, r.Brokers, r.Client, kind, plural(r.Partitions, "partition"), plural(int(r.Records), "record"), plural(r.LiveKeys, "key"))
	for _, f := range r.Checks {
		fmt.Fprintf(&b, "  %-11s %-24s %s\n", f.Status, f.Check, f.Message)
		for _, k := range f.Keys {
			fmt.Fprintf(&b, "  %-11s %-24s   key %s on partitions %v, murmur2 says %d: %s\n", "", "", k.Key, k.Partitions, k.Expected, k.Cause)
		}
	}
	verdict := "healthy"
	if r.Problems > 0 {
		verdict = "something is wrong"
	}
	fmt.Fprintf(&b, "verdict: %s, %s: %s\n", plural(r.Problems, "problem"), plural(r.Warnings, "warning"), verdict)
	_, err := io.WriteString(w, b.String())
	return err
}
