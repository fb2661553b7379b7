package kafkatest

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ktables/ktables/faultnet"
)

// StartProxied starts a kfake cluster (like [StartCluster]) whose brokers
// listen through a [faultnet.Network]: each broker advertises its proxy's
// address in metadata, so clients cannot bypass the proxy after bootstrap,
// and faults set on the network reach every connection of every client.
// The returned addresses are the proxies'. Cluster and proxies are closed
// when t finishes; the test is skipped when KTABLES_BROKERS selects an
// external cluster.
func StartProxied(t testing.TB, opts ...kfake.Opt) (*kfake.Cluster, *faultnet.Network, []string) {
	t.Helper()
	n := new(faultnet.Network)
	t.Cleanup(func() { _ = n.Close() }) // after the cluster's own cleanup
	c, seeds := StartCluster(t, append([]kfake.Opt{kfake.ListenFn(n.Listen)}, opts...)...)
	return c, n, seeds
}
