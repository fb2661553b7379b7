//go:build !race

package kafkatest

const raceEnabled = false
