package faultnet_test

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/ktables/ktables/faultnet"
)

// A server that listens through a Network advertises the proxy's address;
// faults switch at runtime.
func Example() {
	var network faultnet.Network
	defer network.Close()

	ln, err := network.Listen("tcp", "127.0.0.1:0") // e.g. kfake.ListenFn(network.Listen)
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	go func() { // an echo server
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()

	_ = network.Set(faultnet.Both, faultnet.Fault{Mode: faultnet.Partition})
	c, err := net.Dial("tcp", ln.Addr().String()) // the proxy's address
	if err != nil {
		panic(err)
	}
	defer c.Close()
	buf := make([]byte, 4)
	_, _ = c.Write([]byte("ping"))
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err = c.Read(buf)
	fmt.Println("during the partition:", err != nil)

	_ = network.Heal()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _ := io.ReadFull(c, buf)
	fmt.Println("after healing:", string(buf[:n]))
	// Output:
	// during the partition: true
	// after healing: ping
}
