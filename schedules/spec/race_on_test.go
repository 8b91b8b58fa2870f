//go:build race

package spec

// raceEnabled scales random property tests down under the race detector,
// which slows rrule-go's iteration about tenfold; the plain run keeps the
// full case counts.
const raceEnabled = true
