package watch

import (
	"testing"
	"time"
)

func TestDebouncer(t *testing.T) {
	t.Parallel()
	const wait = 200 * time.Millisecond
	// A script of steps at offsets from a start time: "t" is a trigger,
	// "f" the timer firing. want lists what each step must do.
	type step struct {
		at   time.Duration
		op   string        // "t" trigger, "f" fire
		arm  time.Duration // timer to arm (0: none)
		emit int           // a Change with this many events (0: none)
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"single trigger", []step{
			{0, "t", wait, 0},
			{wait, "f", 0, 1},
		}},
		{"burst inside the wait is one Change", []step{
			{0, "t", wait, 0},
			{10 * time.Millisecond, "t", 0, 0},
			{20 * time.Millisecond, "t", 0, 0},
			{wait, "f", 20 * time.Millisecond, 0},
			{wait + 20*time.Millisecond, "f", 0, 3},
		}},
		{"quiet period restarts at each trigger", []step{
			{0, "t", wait, 0},
			{150 * time.Millisecond, "t", 0, 0},
			{wait, "f", 150 * time.Millisecond, 0},
			{300 * time.Millisecond, "t", 0, 0},
			{350 * time.Millisecond, "f", 150 * time.Millisecond, 0},
			{500 * time.Millisecond, "f", 0, 3},
		}},
		{"a trigger after a Change starts a new burst", []step{
			{0, "t", wait, 0},
			{wait, "f", 0, 1},
			{wait + time.Millisecond, "t", wait, 0},
			{2*wait + time.Millisecond, "f", 0, 1},
		}},
		{"a late timer still ends a quiet burst", []step{
			{0, "t", wait, 0},
			{5 * time.Second, "f", 0, 1},
		}},
		{"maxWait caps a burst that never pauses", []step{
			{0, "t", wait, 0},
			{190 * time.Millisecond, "t", 0, 0},
			{wait, "f", 190 * time.Millisecond, 0},
			{380 * time.Millisecond, "t", 0, 0},
			{390 * time.Millisecond, "f", 110 * time.Millisecond, 0}, // capped at 500 ms
			{490 * time.Millisecond, "t", 0, 0},
			{500 * time.Millisecond, "f", 0, 4},
		}},
		{"a stray firing with nothing pending does nothing", []step{
			{0, "f", 0, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := debouncer{wait: wait, maxWait: 500 * time.Millisecond}
			start := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
			for i, s := range tt.steps {
				now := start.Add(s.at)
				switch s.op {
				case "t":
					delay, arm := d.add(now, "reason")
					if got := map[bool]time.Duration{true: delay}[arm]; got != s.arm {
						t.Fatalf("step %d: trigger armed %v, want %v", i, got, s.arm)
					}
				case "f":
					c, again, done := d.expire(now)
					if again != s.arm {
						t.Fatalf("step %d: fire re-armed %v, want %v", i, again, s.arm)
					}
					if done != (s.emit > 0) || c.Events != s.emit {
						t.Fatalf("step %d: fire gave %+v (done %v), want %d events", i, c, done, s.emit)
					}
					if done && (c.Reason != "reason" || !c.At.Equal(now)) {
						t.Fatalf("step %d: Change %+v, want reason and At = %v", i, c, now)
					}
				}
			}
		})
	}
}
