package transport

// ContextError is the caller's context error (context.Canceled or
// context.DeadlineExceeded) of a call that ran out of time, annotated with
// the last failure the transport met meanwhile, so that "context deadline
// exceeded" says why: "context deadline exceeded (last error: dial tcp
// ...: connection refused)".
//
// It unwraps to the context error only: errors.Is(err,
// context.DeadlineExceeded) holds, and, being the caller's decision, it is
// neither retriable nor fatal (see IsRetriable). Last is informational.
type ContextError struct {
	Err  error // the context's error
	Last error // the last failure before it; never nil
}

// WithLastError returns ctxErr annotated with last, or ctxErr itself when
// last is nil.
func WithLastError(ctxErr, last error) error {
	if last == nil || ctxErr == nil {
		return ctxErr
	}
	return &ContextError{Err: ctxErr, Last: last}
}

func (e *ContextError) Error() string {
	return e.Err.Error() + " (last error: " + e.Last.Error() + ")"
}

func (e *ContextError) Unwrap() error { return e.Err }
