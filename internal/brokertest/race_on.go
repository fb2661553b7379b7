//go:build race

package brokertest

// raceEnabled: the race detector slows CPU-bound checks several times.
const raceEnabled = true
