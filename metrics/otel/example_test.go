package ktotel_test

import (
	"context"
	"fmt"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	ktotel "github.com/ktables/ktables/metrics/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func Example() {
	ctx := context.Background()
	tr := memtransport.New()
	defer tr.Close()

	// In production: the application's MeterProvider, e.g. otel.GetMeterProvider().
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(ctx)

	metrics, err := ktotel.New(mp)
	if err != nil {
		panic(err)
	}
	defer metrics.Close()
	tbl, err := ktables.Open(ctx, tr, "feature-flags", ktables.String(), ktables.WithObserver(metrics))
	if err != nil {
		panic(err)
	}
	defer tbl.Close()
	if err := metrics.AddTable(tbl); err != nil {
		panic(err)
	}
	if err := tbl.Barrier(ctx); err != nil {
		panic(err)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
			fmt.Println(m.Name, m.Unit, h.DataPoints[0].Count)
		}
	}
	// Output:
	// ktables.barrier.duration s 1
}
