// Package benchutil holds what Herald's benchmarks measure besides wall
// time. Why: the development machines are shared, and CPU-seconds say what
// a step cost when other processes took the cores, where wall time does
// not.
package benchutil

import (
	"runtime/metrics"
	"syscall"
	"time"
)

// CPUTime is the user and system CPU time of this process so far, over all
// its threads; zero if the system cannot tell.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// GCTime is the Go runtime's estimate of the CPU time its garbage
// collector has taken so far (background marking, assists and pauses).
// Why: start-up allocates a large live heap, and how much of a phase's CPU
// went to collecting it decides whether to tune the collector or the code.
func GCTime() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}
