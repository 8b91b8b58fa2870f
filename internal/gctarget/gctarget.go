// Package gctarget raises the garbage collector's target while a process
// builds a large heap that it then keeps, and puts it back afterwards.
//
// Why: a node's start builds its whole configuration and one actor per
// schedule (about 1.7 KB each, so 1.7 GB for a million) and frees little of
// it. With the default GOGC=100 the collector runs every time the heap
// doubles and marks everything built so far each time; on a 2-core
// machine that marking was about a third of the CPU of a 1M start-up. A
// target of 400 during the start cuts the number of cycles to a quarter
// while the peak RSS moved by about 3 % (measured, BENCHMARKS.md). Outside
// the start the default target stands, so a node's steady heap is not
// allowed to grow fivefold.
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
