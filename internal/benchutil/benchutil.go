// Package benchutil holds what Herald's benchmarks measure besides wall
// time. Why: the development machines are shared, and CPU-seconds say what
// a step cost when other processes took the cores, where wall time does
// not.
package benchutil

import (
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
