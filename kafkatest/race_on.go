//go:build race

package kafkatest

// raceEnabled: the race detector slows CPU-bound checks several times.
const raceEnabled = true
