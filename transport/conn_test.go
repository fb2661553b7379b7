package transport_test

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/ktables/ktables/transport"
)

func TestConnWatch(t *testing.T) {
	w := transport.ConnWatch{Frames: true}
	refused := &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}
	if c, err := w.Dialed(nil, refused); c != nil || err != refused || w.Last.Err() != refused {
		t.Fatalf("failed dial: %v, %v, last %v", c, err, w.Last.Err())
	}

	client, server := net.Pipe()
	defer server.Close()
	c, err := w.Dialed(client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() { _, _ = server.Write(frame("ok")) }()
	buf := make([]byte, 64)
	if n, err := c.Read(buf); err != nil || n == 0 || w.Last.Err() != nil {
		t.Fatalf("a Kafka response: %d, %v; last %v (want cleared)", n, err, w.Last.Err())
	}
	go func() { _, _ = server.Write([]byte("HTTP/1.1 400 Bad Request\r\n")) }()
	_, err = c.Read(buf)
	var nk *transport.NotKafkaError
	if !errors.As(err, &nk) || !errors.As(w.Last.Err(), &nk) {
		t.Fatalf("not Kafka: %v, last %v", err, w.Last.Err())
	}
	var none *transport.LastError
	if none.Err() != nil {
		t.Fatal("nil LastError")
	}
}
