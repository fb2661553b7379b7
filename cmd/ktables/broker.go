package main

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

func runBroker(ctx context.Context, sio *stdio, args []string) error {
	fs := newFlagSet(sio, "broker", "",
		"Run an in-memory development Kafka broker (franz-go's kfake) until SIGINT or SIGTERM.\n"+
			"It speaks the Kafka protocol (kcat, the Java CLI and every client work); data is lost on exit.\n"+
			"The broker advertises the address it listens on.")
	listen := fs.String("listen", "127.0.0.1:9092", "host:port to listen on (port 0: any free port)")
	partitions := fs.Int("partitions", 1, "partitions of topics created without a count (auto-created ones included)")
	autoCreate := fs.Bool("auto-create", true, "create topics on first use, like Kafka's auto.create.topics.enable")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("broker takes no arguments, got %s", plural(len(pos), "argument"))
	}
	host, portStr, err := net.SplitHostPort(*listen)
	if err != nil {
		return usagef("--listen %q: %v", *listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return usagef("--listen %q: bad port", *listen)
	}
	if *partitions <= 0 {
		return usagef("--partitions must be positive, got %d", *partitions)
	}
	c, err := startBroker(host, port, *partitions, *autoCreate)
	if err != nil {
		return err
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	fmt.Fprintf(sio.stdout, "ktables broker: listening on %s (in-memory kfake; Ctrl-C to stop)\n", addr)
	fmt.Fprintf(sio.stdout, "try: ktables demo --brokers %s\n", addr)
	fmt.Fprintf(sio.stdout, "try: kcat -b %s -X partitioner=murmur2_random -P -t flags -K: <<< 'a:1'   (murmur2: the partitions Java clients and ktables use)\n", addr)
	<-ctx.Done()
	fmt.Fprintln(sio.stderr, "ktables broker: stopping")
	return nil
}

// startBroker starts a single-broker kfake cluster listening on host:port.
// kfake listens on 127.0.0.1 unless told otherwise with ListenFn.
func startBroker(host string, port, partitions int, autoCreate bool) (*kfake.Cluster, error) {
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port), kfake.DefaultNumPartitions(partitions)}
	if autoCreate {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	if host != "" && host != "127.0.0.1" {
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		opts = append(opts, kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, addr)
		}))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting the broker on %s: %w", net.JoinHostPort(host, strconv.Itoa(port)), err)
	}
	return c, nil
}
