package kafkatest

import (
	"context"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables/faultnet"
)

// TestStartProxiedAdvertisesProxies: metadata names the proxies, not the
// brokers' private ports, so a partition stops every client request.
func TestStartProxiedAdvertisesProxies(t *testing.T) {
	_, n, seeds := StartProxied(t, kfake.NumBrokers(2))
	var proxies []string
	for _, p := range n.Proxies() {
		proxies = append(proxies, p.Addr())
	}
	if !slices.Equal(seeds, proxies) {
		t.Fatalf("seeds %v, proxies %v", seeds, proxies)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := Ctx(t, 10*time.Second)
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range resp.Brokers {
		addr := net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
		if !slices.Contains(proxies, addr) {
			t.Errorf("broker %d advertised at %s, not through a proxy %v", b.NodeID, addr, proxies)
		}
	}
	if err := n.Set(faultnet.Both, faultnet.Fault{Mode: faultnet.Partition}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(short, cl); err == nil {
		t.Fatal("metadata answered through a partitioned network")
	}
	if err := n.Heal(); err != nil {
		t.Fatal(err)
	}
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl); err != nil {
		t.Fatalf("after heal: %v", err)
	}
}
