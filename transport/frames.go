package transport

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// DefaultMaxResponse is the largest response a FrameCheck with Max zero
// accepts: 100 MiB, sarama's MaxResponseSize, well above what a fetch
// returns with Kafka's default fetch.max.bytes (50 MiB).
const DefaultMaxResponse = 100 << 20

// FrameCheck follows the size prefixes of the responses read on a
// plaintext Kafka connection and rejects an implausible one before the
// client decodes it (issue 16 item 11). Clients trust the first four bytes
// of a response: from a web server on a mistyped port, "HTTP" announces a
// 1.2 GB response, and clients retrying against it spent a core allocating
// and clearing memory (sarama) or decoding garbage (kafka-go). Feed it
// every chunk read, in order, from one goroutine. Over TLS the bytes are
// encrypted: check the plaintext side or not at all.
type FrameCheck struct {
	Max int32 // largest acceptable response; zero means DefaultMaxResponse

	left int64 // bytes of the current response still to come
	hdr  [4]byte
	hdrN int
}

// Scan walks b; it returns a *NotKafkaError at the first size prefix that
// no Kafka broker sends.
func (f *FrameCheck) Scan(b []byte) error {
	limit := f.Max
	if limit <= 0 {
		limit = DefaultMaxResponse
	}
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
		if size < 0 || size > limit {
			return &NotKafkaError{Size: size, Head: f.hdr}
		}
		f.left = int64(size)
	}
	return nil
}

// NotKafkaError reports a response that is not Kafka's: its size prefix is
// negative or beyond the limit. Adapters report it as broker unavailable
// (retriable: the address may be right and the broker still starting).
type NotKafkaError struct {
	Size int32   // the announced size
	Head [4]byte // the four bytes that announced it
}

func (e *NotKafkaError) Error() string {
	return fmt.Sprintf("the peer does not speak Kafka: a response announced %d bytes (first bytes %s); is the broker address right?",
		e.Size, strconv.Quote(string(e.Head[:])))
}
