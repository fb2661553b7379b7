package ktprom_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	ktprom "github.com/ktables/ktables/metrics/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// A service serving /metrics next to its Kubernetes probes.
func Example() {
	ctx := context.Background()
	tr := memtransport.New() // in production: a transport_franz, _sarama or _kafkago transport
	defer tr.Close()

	metrics, err := ktprom.New()
	if err != nil {
		panic(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics)

	tbl, err := ktables.Open(ctx, tr, "feature-flags", ktables.String(), ktables.WithObserver(metrics))
	if err != nil {
		panic(err)
	}
	defer tbl.Close()
	w, err := ktables.OpenWriter(ctx, tr, "feature-flags", ktables.String(), ktables.WithObserver(metrics))
	if err != nil {
		panic(err)
	}
	defer w.Close()
	if err := metrics.AddTable(tbl); err != nil {
		panic(err)
	}
	if err := metrics.AddWriter(w); err != nil {
		panic(err)
	}

	health, err := ktables.NewHealthHandler(ktables.HealthConfig{MaxLag: 1000}, tbl)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("GET /readyz", health.Readiness())
	mux.Handle("GET /livez", health.Liveness())
	// http.ListenAndServe(":8080", mux)

	if err := w.Set(ctx, "dark-mode", "on"); err != nil {
		panic(err)
	}
	if err := tbl.Barrier(ctx); err != nil {
		panic(err)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.Lines(rec.Body.String()) {
		if strings.HasPrefix(line, "ktables_keys{") || strings.HasPrefix(line, `ktables_status{status="caught_up"`) ||
			strings.HasPrefix(line, "ktables_write_duration_seconds_count") {
			fmt.Print(line)
		}
	}
	// Output:
	// ktables_keys{topic="feature-flags"} 1
	// ktables_status{status="caught_up",topic="feature-flags"} 1
	// ktables_write_duration_seconds_count{op="delete",topic="feature-flags"} 0
	// ktables_write_duration_seconds_count{op="set",topic="feature-flags"} 1
}
