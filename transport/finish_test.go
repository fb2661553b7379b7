package transport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/ktables/ktables/transport"
)

// TestFinish pins the order in which Finish applies an Ending (SPEC X6):
// the caller's context first, annotated with the last connection failure;
// classified errors unchanged; Join before the SASL blame; Classify last.
func TestFinish(t *testing.T) {
	errHides := errors.New("no broker") // an error that hides why
	errPlain := errors.New("native")    // classified as broker unavailable
	refused := errors.New("connection refused")
	classify := func(err error) (error, bool) {
		if errors.Is(err, errPlain) || errors.Is(err, errHides) || errors.Is(err, io.EOF) {
			return transport.ErrBrokerUnavailable, true
		}
		return nil, true
	}
	join := func(err, last error) error {
		if errors.Is(err, errHides) {
			return fmt.Errorf("%w (%w)", err, last)
		}
		return err
	}
	blameEOF := func(err error) *transport.SASLClosedError {
		if errors.Is(err, io.EOF) || errors.Is(err, refused) {
			return &transport.SASLClosedError{Err: err}
		}
		return nil
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	live := context.Background()
	classified := transport.NewError("x", "t", transport.ErrInvalidConfig, errHides)

	cases := []struct {
		name     string
		ctx      context.Context
		err      error
		e        transport.Ending
		wantNil  bool
		is       []error // the result matches each
		isNot    []error // and none of these
		text     string  // when set, the result's Error()
		same     bool    // the result is err itself
		ctxError bool    // the result is a context error
	}{
		{name: "nil", ctx: done, err: nil, e: transport.Ending{Last: refused}, wantNil: true},
		{name: "ctx wins, with last", ctx: done, err: errPlain, e: transport.Ending{Last: refused, SASL: blameEOF},
			is: []error{context.Canceled}, isNot: []error{transport.ErrRetriable, transport.ErrFatal},
			text: "context canceled (last error: connection refused)", ctxError: true},
		{name: "ctx wins, no last", ctx: done, err: errPlain, e: transport.Ending{}, is: []error{context.Canceled}, text: "context canceled", ctxError: true},
		{name: "classified stays", ctx: live, err: classified, e: transport.Ending{Last: refused, Join: join, SASL: blameEOF}, same: true},
		{name: "join hides", ctx: live, err: errHides, e: transport.Ending{Op: "op", Topic: "t", Classify: classify, Last: refused, Join: join},
			is: []error{transport.ErrBrokerUnavailable, transport.ErrRetriable, errHides, refused}},
		{name: "join not asked without last", ctx: live, err: errHides, e: transport.Ending{Op: "op", Classify: classify, Join: func(error, error) error { panic("called") }},
			is: []error{transport.ErrBrokerUnavailable}},
		{name: "join leaves others", ctx: live, err: errPlain, e: transport.Ending{Op: "op", Classify: classify, Last: refused, Join: join},
			is: []error{transport.ErrBrokerUnavailable}, isNot: []error{refused}},
		{name: "sasl sees joined", ctx: live, err: errHides, e: transport.Ending{Op: "op", Classify: classify, Last: refused, Join: join, SASL: blameEOF},
			is: []error{transport.ErrAuthentication, transport.ErrFatal, errHides, refused}, isNot: []error{transport.ErrRetriable}},
		{name: "sasl blames", ctx: live, err: io.EOF, e: transport.Ending{Op: "op", Classify: classify, SASL: blameEOF},
			is: []error{transport.ErrAuthentication, transport.ErrFatal, io.EOF}},
		{name: "sasl not blaming", ctx: live, err: errPlain, e: transport.Ending{Op: "op", Classify: classify, SASL: blameEOF},
			is: []error{transport.ErrBrokerUnavailable, transport.ErrRetriable}, isNot: []error{transport.ErrAuthentication}},
		{name: "classify", ctx: live, err: errPlain, e: transport.Ending{Op: "op", Topic: "t", Classify: classify},
			is: []error{transport.ErrBrokerUnavailable, errPlain}, text: "transport: op t: broker unavailable: native (retriable)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := transport.Finish(c.ctx, c.err, c.e)
			if c.wantNil {
				if got != nil {
					t.Fatalf("Finish = %v, want nil", got)
				}
				return
			}
			if c.same && got != c.err {
				t.Fatalf("Finish = %v, want the error itself", got)
			}
			for _, want := range c.is {
				if !errors.Is(got, want) {
					t.Errorf("Finish = %v, does not match %v", got, want)
				}
			}
			for _, not := range c.isNot {
				if errors.Is(got, not) {
					t.Errorf("Finish = %v, matches %v", got, not)
				}
			}
			if c.text != "" && got.Error() != c.text {
				t.Errorf("Error() = %q, want %q", got, c.text)
			}
			if _, isTE := errors.AsType[*transport.Error](got); c.ctxError == isTE {
				t.Errorf("Finish = %T %v: context error %v", got, got, c.ctxError)
			}
		})
	}
}
