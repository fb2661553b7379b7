package ktables

import "runtime"

// goroutineID returns the running goroutine's id, read from the header of
// its stack trace ("goroutine 123 [running]: ..."); the runtime offers no
// other way. It serves one purpose: Close telling whether it was called
// from a hook, on the reader goroutine, which it must not wait for
// (SPEC H1). Close is rare, so the cost of a short stack read is no
// concern.
func goroutineID() uint64 {
	var buf [32]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return 0
	}
	var id uint64
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
