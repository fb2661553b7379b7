package ktables_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
)

// A control plane flips a flag and answers with the write's token; a data
// plane in another process waits for that token before it serves, so the
// flip is proven applied there (read-your-writes across processes).
func ExampleTable_WaitFor() {
	ctx := context.Background()
	cluster := memtransport.NewCluster()
	defer cluster.Close()

	// Control plane: SetWithToken is Set that also says where the write landed.
	w, err := ktables.OpenWriter(ctx, cluster.Transport(), "feature-flags", ktables.String())
	if err != nil {
		panic(err)
	}
	defer w.Close()
	tok, err := w.SetWithToken(ctx, "checkout.new-flow", "on")
	if err != nil {
		panic(err)
	}
	header := tok.String() // e.g. an X-Ktables-Token response header

	// Data plane, another process with its own transport.
	tbl, err := ktables.Open(ctx, cluster.Transport(), "feature-flags", ktables.String())
	if err != nil {
		panic(err)
	}
	defer tbl.Close()
	got, err := ktables.ParseToken(header) // malformed text: ErrInvalidToken
	if err != nil {
		panic(err)
	}
	if err := tbl.WaitFor(ctx, got); err != nil { // no round trip once applied
		panic(err)
	}
	flag, _ := tbl.Get("checkout.new-flow")
	fmt.Println(header, flag, tbl.Position().Covers(got))
	// Output:
	// kt1:feature-flags:0=0 on true
}

// Kubernetes probes for a pod that serves from a table. Readiness: caught
// up, not stale, lag under MaxLag. Liveness: the reader runs. Both answer
// JSON with status, lag, freshness and position.
//
//	readinessProbe:
//	  httpGet: {path: /readyz, port: 8080}
//	  periodSeconds: 5
//	livenessProbe:
//	  httpGet: {path: /livez, port: 8080}
//	  periodSeconds: 10
//	  failureThreshold: 3
func ExampleNewHealthHandler() {
	ctx := context.Background()
	tr := memtransport.New()
	defer tr.Close()
	tbl, err := ktables.Open(ctx, tr, "feature-flags", ktables.String(),
		ktables.WithMaxStaleness(30*time.Second)) // not ready after 30 s without reaching the head
	if err != nil {
		panic(err)
	}
	defer tbl.Close()

	health, err := ktables.NewHealthHandler(ktables.HealthConfig{MaxLag: 1000}, tbl)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /readyz", health.Readiness())
	mux.Handle("GET /livez", health.Liveness())
	// http.ListenAndServe(":8080", mux)

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/livez", nil))
	fmt.Println(rec.Code, health.Check().Live)
	// Output:
	// 200 true
}
