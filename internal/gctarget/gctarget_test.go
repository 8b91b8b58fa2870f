package gctarget

import (
	"os"
	"runtime/debug"
	"testing"
)

// gcPercent reads the current target without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// The tests change a process-wide setting, so they do not run in parallel.
func TestRaiseRestores(t *testing.T) {
	// t.Setenv registers the restore of the variable; then it is removed,
	// as on a machine where the operator did not set it.
	t.Setenv("GOGC", "")
	t.Run("raised and restored", func(t *testing.T) {
		if err := os.Unsetenv("GOGC"); err != nil {
			t.Fatal(err)
		}
		before := gcPercent()
		restore := Raise(before + 300)
		if got := gcPercent(); got != before+300 {
			t.Fatalf("after Raise the target is %d, want %d", got, before+300)
		}
		restore()
		if got := gcPercent(); got != before {
			t.Fatalf("after restore the target is %d, want %d", got, before)
		}
	})
	t.Run("GOGC set by the operator is left alone", func(t *testing.T) {
		t.Setenv("GOGC", "150")
		before := gcPercent()
		restore := Raise(before + 300)
		if got := gcPercent(); got != before {
			t.Fatalf("with GOGC set, Raise changed the target to %d (was %d)", got, before)
		}
		restore()
		if got := gcPercent(); got != before {
			t.Fatalf("with GOGC set, restore changed the target to %d (was %d)", got, before)
		}
	})
}
