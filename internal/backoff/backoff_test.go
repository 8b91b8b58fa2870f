package backoff

import (
	"testing"
	"time"
)

func TestCeiling(t *testing.T) {
	p := Policy{Base: time.Second, Max: time.Minute}
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{
		{-3, time.Second}, {0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second},
		{6, 32 * time.Second}, {7, time.Minute}, {1000, time.Minute},
	} {
		if got := p.Ceiling(tc.n); got != tc.want {
			t.Errorf("Ceiling(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
	if got := (Policy{Base: time.Hour}).Ceiling(500); got <= 0 {
		t.Errorf("uncapped Ceiling(500) overflowed to %v", got)
	}
	if got := (Policy{}).Ceiling(3); got != 0 {
		t.Errorf("zero policy Ceiling = %v, want 0", got)
	}
}

func TestJitteredStaysWithinTheCeiling(t *testing.T) {
	p := Policy{Base: 100 * time.Millisecond, Max: time.Second}
	top := func(n int64) int64 { return n - 1 }
	bottom := func(int64) int64 { return 0 }
	for n := 1; n < 10; n++ {
		if got, want := p.Jittered(n, top), p.Ceiling(n); got != want {
			t.Errorf("Jittered(%d) with the largest draw = %v, want %v", n, got, want)
		}
		if got := p.Jittered(n, bottom); got != 0 {
			t.Errorf("Jittered(%d) with the smallest draw = %v, want 0", n, got)
		}
	}
}
