package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Encodings of keys and values on the command line and in output.
const (
	encUTF8   = "utf8"
	encBase64 = "base64"
	encJSON   = "json" // values only
)

// decodeArg turns a command-line KEY, GROUP, MEMBER or VALUE into bytes per
// its encoding, checking what the README promises: text is valid UTF-8
// unless base64 is asked for, and --values json is JSON.
func decodeArg(what, enc, flagName, arg string) ([]byte, error) {
	switch enc {
	case encBase64:
		b, err := base64.StdEncoding.DecodeString(arg)
		if err != nil {
			return nil, usagef("%s is not base64: %v", what, err)
		}
		return b, nil
	case encJSON:
		if !json.Valid([]byte(arg)) {
			return nil, usagef("%s is not JSON (--values json); give it as text with --values utf8", what)
		}
	}
	if !utf8.ValidString(arg) {
		return nil, usagef("%s is not valid UTF-8: give it in base64 with %s base64", what, flagName)
	}
	return []byte(arg), nil
}

// showKey renders a key (or a group or member name) per --keys; ok is false
// for a key --keys utf8 cannot show.
func showKey(enc, key string) (string, bool) {
	if enc == encBase64 {
		return base64.StdEncoding.EncodeToString([]byte(key)), true
	}
	return key, utf8.ValidString(key)
}

// shownValue is a value rendered per --values: a JSON string, or with
// --values json the value itself embedded as JSON.
type shownValue struct {
	text string
	raw  json.RawMessage
}

func (v shownValue) MarshalJSON() ([]byte, error) {
	if v.raw != nil {
		return v.raw, nil
	}
	return json.Marshal(v.text)
}

// String is the value in text output: the text, or compact JSON.
func (v shownValue) String() string {
	if v.raw != nil {
		return string(v.raw)
	}
	return v.text
}

// valueError is a value --values cannot show.
type valueError struct{ what, enc string }

func (e *valueError) Error() string {
	if e.enc == encJSON {
		return fmt.Sprintf("the value of %s is not JSON (use --values utf8 or base64)", e.what)
	}
	return fmt.Sprintf("the value of %s is not valid UTF-8 (use --values base64)", e.what)
}

// showValue renders v per --values; what names its key for errors.
func showValue(enc, what string, v []byte) (shownValue, error) {
	switch enc {
	case encBase64:
		return shownValue{text: base64.StdEncoding.EncodeToString(v)}, nil
	case encJSON:
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return shownValue{}, &valueError{what: what, enc: enc}
		}
		return shownValue{raw: b.Bytes()}, nil
	}
	if !utf8.Valid(v) {
		return shownValue{}, &valueError{what: what, enc: enc}
	}
	return shownValue{text: string(v)}, nil
}

// skipped counts what a reading command could not show, by reason, with the
// first example of each, for one line on stderr. A reason is "singular|plural".
type skipped struct {
	reasons []string
	count   map[string]int
	example map[string]string
}

func (s *skipped) add(reason, example string) {
	if s.count == nil {
		s.count, s.example = map[string]int{}, map[string]string{}
	}
	if s.count[reason] == 0 {
		s.reasons = append(s.reasons, reason)
		s.example[reason] = example
	}
	s.count[reason]++
}

func (s *skipped) addN(reason string, n int64) {
	if n <= 0 {
		return
	}
	s.add(reason, "")
	s.count[reason] += int(n) - 1
}

func (s *skipped) total() int {
	n := 0
	for _, c := range s.count {
		n += c
	}
	return n
}

// line is the stderr report, empty when nothing was skipped.
func (s *skipped) line(topic string) string {
	if s.total() == 0 {
		return ""
	}
	parts := make([]string, 0, len(s.reasons))
	for _, r := range s.reasons {
		one, many, _ := strings.Cut(r, "|")
		p := fmt.Sprintf("%d %s", s.count[r], many)
		if s.count[r] == 1 {
			p = "1 " + one
		}
		if ex := s.example[r]; ex != "" {
			p += " (" + ex + ")"
		}
		parts = append(parts, p)
	}
	return fmt.Sprintf("ktables: topic %q: skipped %s", topic, strings.Join(parts, "; "))
}
