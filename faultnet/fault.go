package faultnet

import (
	"errors"
	"fmt"
	"time"
)

// Direction selects which way through a connection a fault applies.
type Direction uint8

const (
	// ToServer is the direction from the client to the proxied server:
	// requests.
	ToServer Direction = 1 << iota
	// ToClient is the direction from the server back to the client:
	// responses.
	ToClient
	// Both directions.
	Both = ToServer | ToClient
)

func (d Direction) String() string {
	switch d {
	case ToServer:
		return "to-server"
	case ToClient:
		return "to-client"
	case Both:
		return "both"
	default:
		return fmt.Sprintf("Direction(%d)", uint8(d))
	}
}

// Mode is what a fault does to the bytes of one direction. See the package
// documentation for each mode.
type Mode uint8

const (
	Pass Mode = iota
	Reset
	Blackhole
	Partition
	Latency
	Drip
	CloseAfter
	Refuse
)

var modeNames = [...]string{
	Pass:       "pass",
	Reset:      "reset",
	Blackhole:  "blackhole",
	Partition:  "partition",
	Latency:    "latency",
	Drip:       "drip",
	CloseAfter: "close-after",
	Refuse:     "refuse",
}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// Fault is a mode with its parameters.
type Fault struct {
	Mode Mode
	// Delay is the added latency of each chunk (Latency) or the pause
	// between two drips (Drip).
	Delay time.Duration
	// Bytes is the size of one drip (Drip; zero means 1) or how many bytes
	// a connection still forwards before it is closed (CloseAfter, counted
	// from when the fault is set or the connection opens).
	Bytes int
}

// ErrInvalidFault is returned by Set for a fault whose parameters do not
// fit its mode.
var ErrInvalidFault = errors.New("faultnet: invalid fault")

func (f Fault) validate() error {
	switch f.Mode {
	case Pass, Reset, Blackhole, Partition, Refuse:
	case Latency, Drip:
		if f.Delay <= 0 {
			return fmt.Errorf("%w: %v needs a positive Delay, got %v", ErrInvalidFault, f.Mode, f.Delay)
		}
		if f.Bytes < 0 {
			return fmt.Errorf("%w: %v: negative Bytes %d", ErrInvalidFault, f.Mode, f.Bytes)
		}
	case CloseAfter:
		if f.Bytes < 0 {
			return fmt.Errorf("%w: %v: negative Bytes %d", ErrInvalidFault, f.Mode, f.Bytes)
		}
	default:
		return fmt.Errorf("%w: unknown mode %v", ErrInvalidFault, f.Mode)
	}
	return nil
}

func (d Direction) validate() error {
	if d == 0 || d&^Both != 0 {
		return fmt.Errorf("%w: direction %v", ErrInvalidFault, d)
	}
	return nil
}
