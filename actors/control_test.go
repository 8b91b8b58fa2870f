package actors

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// TestPausedFiresAreSkippedUntilTheyEnd: fires during a pause are not
// recorded, and firing resumes by itself at the pause's end.
func TestPausedFiresAreSkippedUntilTheyEnd(t *testing.T) {
	h := newHarness(t)
	rt := h.runtime("node-a")
	if _, err := rt.Apply(context.Background(), h.load(twoSchedules), nil, "test"); err != nil {
		t.Fatal(err)
	}
	rt.SetPauses(map[string]store.Pause{"every-minute": {Note: "incident", At: t0, Until: t0.Add(150 * time.Second)}})
	h.advanceTo(t0.Add(time.Minute))
	h.advanceTo(t0.Add(2 * time.Minute))
	h.advanceTo(t0.Add(3 * time.Minute))
	h.eventually("the fire after the pause", func() bool {
		j := h.jobs("every-minute")
		return len(j) == 1 && j[0].Status == store.StatusSucceeded
	})
	if j := h.jobs("every-minute"); !j[0].PlannedAt.Equal(t0.Add(3 * time.Minute)) {
		t.Errorf("job planned %v, want the first fire after the pause", j[0].PlannedAt)
	}
	skipped := 0
	for _, l := range h.logs.lines() {
		if l["msg"] == "fire skipped" && l["reason"] == "paused" && l["schedule_id"] == "every-minute" {
			skipped++
		}
	}
	if skipped != 2 {
		t.Errorf("%d fires logged as skipped, want 2", skipped)
	}
}

// TestTriggerPublishesOnceNow: a manual trigger is a job of its own, with
// trigger manual, published at once.
func TestTriggerPublishesOnceNow(t *testing.T) {
	h := newHarness(t)
	rt := h.runtime("node-a")
	if _, err := rt.Apply(context.Background(), h.load(twoSchedules), nil, "test"); err != nil {
		t.Fatal(err)
	}
	job, err := rt.Trigger(context.Background(), "hourly")
	if err != nil {
		t.Fatal(err)
	}
	if job.Trigger != store.TriggerManual || job.Status != store.StatusRunning || !job.PlannedAt.Equal(t0) ||
		job.Revision == "" || job.Revision != rt.currentConfig().Revision || job.FiredBy != "node-a" {
		t.Errorf("triggered job %+v", job)
	}
	h.eventually("published", func() bool {
		j := h.jobs("hourly")
		return len(j) == 1 && j[0].Status == store.StatusSucceeded
	})
	if _, err := rt.Trigger(context.Background(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown schedule: err = %v, want ErrNotFound", err)
	}
}
