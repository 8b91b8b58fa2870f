// Package gctarget raises the garbage collector's target while a process
// builds a large heap that it then keeps, and puts it back afterwards.
//
// Why: a node's first Apply builds one actor per schedule (about 1.3 KB
// each, 1.2 GB for a million) and frees almost nothing. With the default
// GOGC=100 the collector runs every time the heap doubles and marks all
// that was built so far each time. Raised to 400 for that Apply, the heap
// it starts from (configuration and latest fires, about 0.6 GB for a
// million) leaves room for every actor before the next collection, so
// none need run while they are built. The peak is bounded by five times
// the heap left by the last collection before; measured at 1M: 2.2–3.2 GB
// against a steady 1.9 GB. Apply until armed took 6.9–7.4 s and
// 13.7–14.7 CPU-s with the default, 5.4–6.6 s and 10.6–13.1 CPU-s with
// the raise (BENCHMARKS.md). The load before it is not covered: it makes
// gigabytes of garbage (yaml.v3's nodes), where a raised target only
// raised the peak (up to 4.2 GB instead of 3.2 GB, for no gain in time).
//
// An operator who set GOGC chose the target: it is left alone. A memory
// limit (GOMEMLIMIT) still bounds the heap while the target is raised,
// because the runtime collects when the limit nears whatever the target.
// It owns nothing but that call and imports nothing of ours.
package gctarget

import (
	"os"
	"runtime/debug"
)

// StartPercent is the GOGC used while a node starts.
const StartPercent = 400

// Raise sets the collector's target to percent unless the GOGC
// environment variable is set, and returns the function that restores
// the previous target (a no-op when nothing was changed). Call restore
// once, when the heap that the raise was for is built.
func Raise(percent int) (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	prev := debug.SetGCPercent(percent)
	return func() { debug.SetGCPercent(prev) }
}
