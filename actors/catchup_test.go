package actors

import (
	"testing"
	"time"

	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/schedules/spec"
)

func fireFunc(t *testing.T, expr string) func(time.Time) (schedules.Fire, bool) {
	t.Helper()
	s, err := spec.Cron(expr, time.UTC, spec.Window{})
	if err != nil {
		t.Fatal(err)
	}
	return func(after time.Time) (schedules.Fire, bool) {
		p, ok := s.Next(after)
		return schedules.Fire{Planned: p, At: p}, ok
	}
}

func atFunc(at time.Time) func(time.Time) (schedules.Fire, bool) {
	s := spec.At(at)
	return func(after time.Time) (schedules.Fire, bool) {
		p, ok := s.Next(after)
		return schedules.Fire{Planned: p, At: p}, ok
	}
}

func TestPlanStart(t *testing.T) {
	base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	hourly := fireFunc(t, "0 * * * *")
	tests := []struct {
		name        string
		next        func(time.Time) (schedules.Fire, bool)
		oneShot     bool
		last, now   time.Time
		catchup     time.Duration
		wantCatchUp time.Time // zero: none
		wantMissed  int
		firstMissed time.Time
		truncated   bool
		resume      time.Time
	}{
		{name: "fresh recurring schedule misses nothing", next: hourly, now: base.Add(30 * time.Minute), catchup: 15 * time.Minute, resume: base.Add(30 * time.Minute)},
		{name: "no downtime", next: hourly, last: base, now: base.Add(30 * time.Minute), catchup: 15 * time.Minute, resume: base},
		{name: "one missed fire within catch-up", next: hourly, last: base, now: base.Add(70 * time.Minute), catchup: 15 * time.Minute, wantCatchUp: base.Add(time.Hour), resume: base.Add(time.Hour)},
		{name: "one missed fire beyond catch-up", next: hourly, last: base, now: base.Add(80 * time.Minute), catchup: 15 * time.Minute, wantMissed: 1, firstMissed: base.Add(time.Hour), resume: base.Add(time.Hour)},
		{name: "catch-up boundary is inclusive", next: hourly, last: base, now: base.Add(75 * time.Minute), catchup: 15 * time.Minute, wantCatchUp: base.Add(time.Hour), resume: base.Add(time.Hour)},
		{name: "five hours down: newest caught up, four missed", next: hourly, last: base, now: base.Add(5*time.Hour + 10*time.Minute), catchup: 15 * time.Minute, wantCatchUp: base.Add(5 * time.Hour), wantMissed: 4, firstMissed: base.Add(time.Hour), resume: base.Add(5 * time.Hour)},
		{name: "zero catch-up records everything as missed", next: hourly, last: base, now: base.Add(2*time.Hour + time.Second), catchup: 0, wantMissed: 2, firstMissed: base.Add(time.Hour), resume: base.Add(2 * time.Hour)},
		{name: "one-shot passed within catch-up", next: atFunc(base), oneShot: true, now: base.Add(10 * time.Minute), catchup: 15 * time.Minute, wantCatchUp: base, resume: base},
		{name: "one-shot passed beyond catch-up is missed once", next: atFunc(base), oneShot: true, now: base.Add(time.Hour), catchup: 15 * time.Minute, wantMissed: 1, firstMissed: base, resume: base},
		{name: "one-shot already recorded", next: atFunc(base), oneShot: true, last: base, now: base.Add(time.Hour), catchup: 15 * time.Minute, resume: base},
		{name: "one-shot in the future", next: atFunc(base.Add(time.Hour)), oneShot: true, now: base, catchup: 15 * time.Minute},
		{name: "every second for a day: truncated, newest still caught up", next: fireFunc(t, "* * * * * *"), last: base, now: base.Add(24 * time.Hour), catchup: 15 * time.Minute, wantCatchUp: base.Add(24 * time.Hour), wantMissed: maxMissedRecorded, firstMissed: base.Add(time.Second), truncated: true, resume: base.Add(24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planStart(tt.next, tt.oneShot, tt.last, tt.now, tt.catchup)
			switch {
			case tt.wantCatchUp.IsZero() && p.CatchUp != nil:
				t.Errorf("caught up %v, want none", p.CatchUp.Planned)
			case !tt.wantCatchUp.IsZero() && (p.CatchUp == nil || !p.CatchUp.Planned.Equal(tt.wantCatchUp)):
				t.Errorf("catch-up = %+v, want %v", p.CatchUp, tt.wantCatchUp)
			}
			if len(p.Missed) != tt.wantMissed {
				t.Errorf("missed %d fires, want %d", len(p.Missed), tt.wantMissed)
			} else if tt.wantMissed > 0 && !p.Missed[0].Planned.Equal(tt.firstMissed) {
				t.Errorf("first missed %v, want %v", p.Missed[0].Planned, tt.firstMissed)
			}
			if p.Truncated != tt.truncated {
				t.Errorf("truncated = %v, want %v", p.Truncated, tt.truncated)
			}
			if !p.ResumeAfter.Equal(tt.resume) {
				t.Errorf("resume after %v, want %v", p.ResumeAfter, tt.resume)
			}
		})
	}
}

func TestStartingSchedules(t *testing.T) {
	mk := func(enabled map[string]bool) *schedules.Config {
		cfg := &schedules.Config{}
		for _, id := range []string{"a", "b", "c"} {
			if e, ok := enabled[id]; ok {
				cfg.Schedules = append(cfg.Schedules, &schedules.Schedule{ID: id, Enabled: e})
			}
		}
		return cfg
	}
	prev := mk(map[string]bool{"a": true, "b": false})
	next := mk(map[string]bool{"a": true, "b": true, "c": true})
	if got := StartingSchedules(nil, next); len(got) != 3 {
		t.Errorf("at start: %v, want every enabled schedule", got)
	}
	if got := StartingSchedules(prev, next); len(got) != 2 || got[0] != "b" || got[1] != "c" {
		t.Errorf("reload: %v, want [b c] (b re-enabled, c new)", got)
	}
	if got := StartingSchedules(next, mk(map[string]bool{"a": false})); len(got) != 0 {
		t.Errorf("disabled: %v, want none", got)
	}
}
