package bench

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Config sizes a run of the suite.
type Config struct {
	Quick    bool
	Repeats  int
	Brokers  []string // empty: a fresh kfake cluster per scenario run
	Adapters []Adapter

	PropagationN int           // writes per repeat
	BarrierN     int           // barriers per repeat and mode
	WriteLatN    int           // sequential writes per repeat
	WriteDur     time.Duration // per concurrency level and repeat
	Writers      []int         // concurrency levels
	Catchup      []CatchupCase
	MemSizes     []int
	// Memory rows beyond distinct keys: an uncompacted replay of
	// MemReplayKeys keys × MemVersions versions, and MemChurnUpdates live
	// random updates over MemChurnKeys keys.
	MemReplayKeys, MemVersions    int
	MemChurnKeys, MemChurnUpdates int
	ReadKeys                      int
	IdleWindow                    time.Duration
	// ScenarioTimeout bounds one scenario run for one adapter.
	ScenarioTimeout time.Duration
	// ConnectTimeout bounds reaching an external broker.
	ConnectTimeout time.Duration
	// Scenarios restricts the run to these names (nil: all).
	Scenarios []string

	Log io.Writer `json:"-"` // progress, may be nil
}

// CatchupCase is one catch-up configuration.
type CatchupCase struct {
	Records    int
	Codec      string // "bytes" or "json"
	Grouped    bool
	Partitions int32
	// Scale marks the configuration whose rate is plotted against size.
	Scale bool
	// Only restricts the case to one adapter ("" = all), Repeats overrides
	// Config.Repeats (0 = no override): for the largest size.
	Only    string
	Repeats int
}

func (c CatchupCase) String() string {
	shape := "flat"
	if c.Grouped {
		shape = "grouped"
	}
	s := fmt.Sprintf("%s %s %s, %d part", fmtCount(c.Records), c.Codec, shape, c.Partitions)
	if c.Repeats > 0 {
		s += fmt.Sprintf(", %d repeat(s)", c.Repeats)
	}
	if c.Only != "" {
		s += ", " + c.Only + " only"
	}
	return s
}

func fmtCount(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// DefaultConfig returns the full run, or the smoke run with quick.
func DefaultConfig(quick bool) Config {
	if quick {
		return Config{
			Quick: true, Repeats: 1,
			PropagationN: 50, BarrierN: 20, WriteLatN: 100,
			WriteDur: 300 * time.Millisecond, Writers: []int{1, 8, 64},
			Catchup: []CatchupCase{
				{Records: 10_000, Codec: "bytes", Partitions: 1, Scale: true},
				{Records: 10_000, Codec: "json", Partitions: 1},
				{Records: 10_000, Codec: "bytes", Grouped: true, Partitions: 16},
				{Records: 10_000, Codec: "json", Grouped: true, Partitions: 1},
				{Records: 100_000, Codec: "bytes", Partitions: 1, Scale: true},
			},
			MemSizes: []int{10_000, 100_000}, ReadKeys: 10_000,
			MemReplayKeys: 10_000, MemVersions: 10, MemChurnKeys: 1000, MemChurnUpdates: 50_000,
			IdleWindow:      5 * time.Second,
			ScenarioTimeout: 60 * time.Second, ConnectTimeout: 10 * time.Second,
		}
	}
	var cu []CatchupCase
	for _, codec := range []string{"bytes", "json"} {
		for _, g := range []bool{false, true} {
			for _, p := range []int32{1, 16} {
				cu = append(cu, CatchupCase{Records: 100_000, Codec: codec, Grouped: g, Partitions: p,
					Scale: codec == "bytes" && !g && p == 1})
			}
		}
	}
	cu = append(cu,
		CatchupCase{Records: 1_000_000, Codec: "bytes", Partitions: 1, Scale: true},
		CatchupCase{Records: 1_000_000, Codec: "bytes", Partitions: 16},
		CatchupCase{Records: 1_000_000, Codec: "json", Partitions: 1},
		CatchupCase{Records: 1_000_000, Codec: "bytes", Grouped: true, Partitions: 1},
		// 10M: kfake holds the log (~1.5 GB) while the table and the raw
		// map hold another ~2 GB each; one adapter, one repeat, to stay
		// within the time budget.
		CatchupCase{Records: 10_000_000, Codec: "bytes", Partitions: 1, Scale: true, Only: "franz", Repeats: 1},
	)
	return Config{
		Repeats:      3,
		PropagationN: 1000, BarrierN: 100, WriteLatN: 500,
		WriteDur: time.Second, Writers: []int{1, 8, 64},
		Catchup:  cu,
		MemSizes: []int{10_000, 100_000, 1_000_000}, ReadKeys: 100_000,
		MemReplayKeys: 100_000, MemVersions: 10, MemChurnKeys: 10_000, MemChurnUpdates: 1_000_000,
		IdleWindow: 30 * time.Second,
		// librdkafka's live churn rows (1M updates, two codecs) take minutes.
		ScenarioTimeout: 8 * time.Minute, ConnectTimeout: 10 * time.Second,
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Repeats <= 0 {
		return fmt.Errorf("repeats must be positive, got %d", c.Repeats)
	}
	if len(c.Adapters) == 0 {
		return errors.New("no adapters selected")
	}
	for _, s := range c.Scenarios {
		if scenarioByName(s) == nil {
			return fmt.Errorf("unknown scenario %q (known: %v)", s, ScenarioNames())
		}
	}
	return nil
}

func (c *Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}
