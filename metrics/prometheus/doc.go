// Package ktprom exports ktables tables and writers to Prometheus.
//
// One Collector serves any number of tables and writers. Create it, register
// it, open each table and writer with ktables.WithObserver(c), and add it:
//
//	c, _ := ktprom.New()
//	reg.MustRegister(c)
//	tbl, _ := ktables.Open(ctx, tr, "flags", codec, ktables.WithObserver(c))
//	_ = c.AddTable(tbl)
//	w, _ := ktables.OpenWriter(ctx, tr, "flags", codec, ktables.WithObserver(c))
//	_ = c.AddWriter(w)
//
// Series (every one has the label topic, then the labels declared with
// WithLabels):
//
//	ktables_records_applied_total{kind="set"|"delete"}           counter
//	ktables_poison_records_total{kind="value_decode"|"key_decode"|"keyless"|"foreign"} counter
//	ktables_expired_total                                        counter (WithTTL expiry)
//	ktables_retries_total{op="fetch"|"produce"}                  counter
//	ktables_lag_records{partition}                               gauge
//	ktables_status{status="loading"|"caught_up"|"degraded"|"failed"|"closed"} gauge, 1 for the current one
//	ktables_stale                                                gauge, 0 or 1
//	ktables_keys, ktables_partitions                             gauge
//	ktables_catchup_duration_seconds                             gauge
//	ktables_head_confirmed_timestamp_seconds                     gauge
//	ktables_barrier_errors_total                                 counter
//	ktables_barrier_duration_seconds                             histogram
//	ktables_waitfor_duration_seconds                             histogram (WaitFor, WaitForChecked)
//	ktables_write_duration_seconds{op="set"|"delete"}            histogram
//	ktables_write_errors_total{op="set"|"delete"}                counter
//
// Table counters and gauges are read from ktables.Table.Metrics when
// Prometheus scrapes, so an unscraped table pays nothing for them; the
// histograms and writer counters are fed by the observer events. A table
// not opened with WithObserver(c) still exports everything but its barrier
// and WaitFor histograms (the Collector is a ktables.WaitForObserver).
//
// Two tables of one topic in one process would export the same series:
// AddTable refuses the second with ErrDuplicate unless a label declared
// with WithLabels tells them apart. Errors surface when adding, never as a
// failed scrape or a panic.
package ktprom
