package saramatransport

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/IBM/sarama"
)

// frameCheck follows the size prefixes of the responses read on a
// plaintext connection and rejects an implausible one before sarama sees
// it (issue 16 item 11). sarama allocates a buffer of whatever size the
// first four bytes announce: from a web server, "HTTP" is a 1.2 GB
// response, and a client retrying against it spent a core clearing
// memory. Under TLS sarama reads through its own TLS layer, so there the
// check is off (a non-TLS peer fails the handshake instead).
type frameCheck struct {
	left int64 // bytes of the current response body still to come
	hdr  [4]byte
	hdrN int
}

// scan walks b; it returns an error at the first size prefix that no Kafka
// broker sends.
func (f *frameCheck) scan(b []byte) error {
	for len(b) > 0 {
		if f.left > 0 {
			n := min(f.left, int64(len(b)))
			f.left -= n
			b = b[n:]
			continue
		}
		n := copy(f.hdr[f.hdrN:], b)
		f.hdrN += n
		b = b[n:]
		if f.hdrN < 4 {
			return nil
		}
		f.hdrN = 0
		size := int32(binary.BigEndian.Uint32(f.hdr[:]))
		if size < 0 || size > sarama.MaxResponseSize {
			return &errNotKafka{size: size, head: f.hdr}
		}
		f.left = int64(size)
	}
	return nil
}

// errNotKafka is the native error of a response that is not Kafka's.
type errNotKafka struct {
	size int32
	head [4]byte
}

func (e *errNotKafka) Error() string {
	return fmt.Sprintf("saramatransport: the peer does not speak Kafka: a response announced %d bytes (first bytes %s); is the broker address right?",
		e.size, strconv.Quote(string(e.head[:])))
}
