// Package ktotel records ktables tables and writers through OpenTelemetry
// metrics (go.opentelemetry.io/otel/metric): the instruments of the
// metrics/prometheus module, under OpenTelemetry names and units.
//
//	m, _ := ktotel.New(otel.GetMeterProvider())
//	defer m.Close()
//	tbl, _ := ktables.Open(ctx, tr, "flags", codec, ktables.WithObserver(m))
//	_ = m.AddTable(tbl)
//	w, _ := ktables.OpenWriter(ctx, tr, "flags", codec, ktables.WithObserver(m))
//	_ = m.AddWriter(w)
//
// Instruments (every data point has the attribute topic, then the caller's
// attributes from AddTable or AddWriter):
//
//	ktables.records.applied {record}   observable counter, kind=set|delete
//	ktables.poison.records  {record}   observable counter, kind=value_decode|key_decode|keyless|foreign
//	ktables.expired         {key}      observable counter (WithTTL expiry)
//	ktables.retries         {retry}    observable counter, op=fetch|produce
//	ktables.lag             {record}   observable gauge, partition
//	ktables.status          1          observable gauge, status=loading|caught_up|degraded|failed|closed
//	ktables.stale           1          observable gauge
//	ktables.keys            {key}      observable gauge
//	ktables.partitions      {partition} observable gauge
//	ktables.catchup.duration s         observable gauge
//	ktables.head_confirmed.time s      observable gauge, a Unix time
//	ktables.barrier.errors  {barrier}  observable counter
//	ktables.barrier.duration s         histogram
//	ktables.waitfor.duration s         histogram (WaitFor, WaitForChecked)
//	ktables.write.duration  s          histogram, op=set|delete
//	ktables.write.errors    {write}    observable counter, op=set|delete
//
// Observable instruments read ktables.Table.Metrics when the SDK collects,
// so a table pays nothing for them between collections; the histograms and
// writer counters are fed by observer events (Metrics is also a
// ktables.WaitForObserver). Exported through the
// OpenTelemetry Prometheus exporter they take the names the
// metrics/prometheus module uses (ktables_records_applied_total, ...).
//
// Two tables of one topic with equal attributes would merge their data
// points: AddTable refuses the second with ErrDuplicate, so the mistake
// shows when adding, never as wrong numbers.
package ktotel
