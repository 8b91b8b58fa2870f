package actors

import (
	"context"
	"testing"
	"time"

	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

// panicSpec is a schedule timing that panics, standing for a bug in a
// schedule actor.
type panicSpec struct{}

func (panicSpec) Next(time.Time) (time.Time, bool) { panic("boom") }
func (panicSpec) Location() *time.Location         { return time.UTC }

func TestFailingScheduleActorIsStoppedAndOthersGoOn(t *testing.T) {
	h := newHarness(t)
	rt := h.runtime("node-a")
	cfg := h.load(twoSchedules)
	bad := *cfg.Schedules[0]
	bad.ID, bad.Spec, bad.Hash = "a-panicking-one", panicSpec{}, "bad"
	cfg.Schedules = append([]*schedules.Schedule{&bad}, cfg.Schedules...)
	if _, err := rt.Apply(context.Background(), cfg, nil, "test"); err != nil {
		t.Fatal(err)
	}
	h.eventually("the failing actor reported", func() bool {
		for _, l := range h.logs.lines() {
			if l["msg"] == "schedule actor stopped after repeated failures; fix the schedule or restart Herald" && l["schedule_id"] == "a-panicking-one" {
				return true
			}
		}
		return false
	})
	restarts := 0
	for _, l := range h.logs.lines() {
		if l["msg"] == "schedule actor panicked; restarting" {
			restarts++
		}
	}
	if restarts < maxRestarts {
		t.Errorf("%d panics seen before the stop, want at least %d", restarts, maxRestarts)
	}
	h.advanceTo(t0.Add(time.Minute))
	h.eventually("the healthy schedule still fires", func() bool {
		jobs := h.jobs("every-minute")
		return len(jobs) == 1 && jobs[0].Status == store.StatusSucceeded
	})
	// A later configuration in which the schedule is fixed respawns it.
	fixed := *cfg.Schedules[1]
	fixed.ID, fixed.Hash = "a-panicking-one", "fixed"
	cfg2 := *cfg
	cfg2.Schedules = append([]*schedules.Schedule{&fixed}, cfg.Schedules[1:]...)
	res, err := rt.Apply(context.Background(), &cfg2, nil, "fix")
	if err != nil || res.Changed != 1 {
		t.Fatalf("Apply(fixed) = %+v, %v", res, err)
	}
	// Armed: every-minute, hourly, the fixed one, and the dispatcher's sleep.
	h.eventually("four timers armed", func() bool { return h.clock.Pending() == 4 })
	h.clock.Set(t0.Add(2 * time.Minute))
	h.eventually("the fixed schedule fires", func() bool { return len(h.jobs("a-panicking-one")) == 1 })
}
