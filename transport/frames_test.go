package transport_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/ktables/ktables/transport"
)

func frame(body string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	return append(b, body...)
}

func TestFrameCheck(t *testing.T) {
	var f transport.FrameCheck
	stream := append(frame("hello"), frame("")...)
	stream = append(stream, frame("world!")...)
	// Chunks of every size, split across prefixes and bodies.
	for i := 0; i < len(stream); i += 3 {
		if err := f.Scan(stream[i:min(i+3, len(stream))]); err != nil {
			t.Fatalf("valid stream rejected at %d: %v", i, err)
		}
	}
	err := f.Scan([]byte("HTTP/1.1 400 Bad Request\r\n"))
	var nk *transport.NotKafkaError
	if !errors.As(err, &nk) || string(nk.Head[:]) != "HTTP" {
		t.Fatalf("HTTP response: %v, want a NotKafkaError naming HTTP", err)
	}
	small := transport.FrameCheck{Max: 4}
	if err := small.Scan(frame("12345")); !errors.As(err, &nk) || nk.Size != 5 {
		t.Fatalf("response above Max: %v", err)
	}
}
