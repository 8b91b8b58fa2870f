package actors

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
	// Armed: every-minute, hourly, the fixed one, and the sleeps of the
	// dispatcher, the claimer and the lease renewer.
	h.eventually("six timers armed", func() bool { return h.clock.Pending() == 6 })
	h.clock.Set(t0.Add(2 * time.Minute))
	h.eventually("the fixed schedule fires", func() bool { return len(h.jobs("a-panicking-one")) == 1 })
}

// With the schedules shared among several supervisors, an Apply still
// diffs the whole configuration: each supervisor its shard, the result
// their sum.
func TestApplyAcrossSupervisorShards(t *testing.T) {
	h := newHarness(t)
	h.tune = func(o *Options) { o.Supervisors = 3 }
	rt := h.runtime("node-a")
	yaml := func(ids []int, cron func(int) string) string {
		var b strings.Builder
		b.WriteString("accounts:\n  brand: {platform: x}\nschedules:\n")
		for _, i := range ids {
			fmt.Fprintf(&b, "  - {id: s-%02d, account: brand, cron: %q, post: {text: \"s-%02d {{ .Run }}\"}}\n", i, cron(i), i)
		}
		return b.String()
	}
	hourly := func(int) string { return "0 * * * *" }
	first := make([]int, 30) // s-00 .. s-29
	for i := range first {
		first[i] = i
	}
	res, err := rt.Apply(context.Background(), h.load(yaml(first, hourly)), nil, "1")
	if err != nil || res != (ApplyResult{Added: 30}) {
		t.Fatalf("first Apply = %+v, %v", res, err)
	}
	// Drop s-00..s-09, change s-10..s-14, keep s-15..s-29, add s-30..s-34.
	second := make([]int, 0, 25)
	for i := 10; i < 35; i++ {
		second = append(second, i)
	}
	res, err = rt.Apply(context.Background(), h.load(yaml(second, func(i int) string {
		if i < 15 {
			return "30 * * * *"
		}
		return "0 * * * *"
	})), nil, "2")
	want := ApplyResult{Added: 5, Removed: 10, Changed: 5, Unchanged: 15}
	if err != nil || res != want {
		t.Fatalf("second Apply = %+v, %v; want %+v", res, err, want)
	}
	// 25 schedules armed, plus the sleeps of the dispatcher, the claimer
	// and the lease renewer.
	h.eventually("25 timers armed", func() bool { return h.clock.Pending() == 28 })
	h.clock.Set(t0.Add(30 * time.Minute))
	h.eventually("the changed schedules fire at :30", func() bool {
		for i := 10; i < 15; i++ {
			if len(h.jobs(fmt.Sprintf("s-%02d", i))) != 1 {
				return false
			}
		}
		return true
	})
	for i := range 10 {
		if jobs := h.jobs(fmt.Sprintf("s-%02d", i)); len(jobs) != 0 {
			t.Errorf("removed schedule s-%02d fired: %+v", i, jobs)
		}
	}
}

// TestDormantSchedules follows schedules through dormancy: dormant at
// Apply, an actor spawned at the first fire, kept by a schedule that fires
// again within passivateAfter and given back by one that does not, and
// dormant schedules changed, removed and stopped.
func TestDormantSchedules(t *testing.T) {
	h := newHarness(t)
	rt := h.runtime("node-a")
	counts := func(wantDormant, wantActive int) {
		t.Helper()
		h.eventually(fmt.Sprintf("%d dormant and %d active schedules", wantDormant, wantActive), func() bool {
			d, a, err := rt.scheduleCounts()
			if err != nil {
				t.Fatal(err)
			}
			return d == wantDormant && a == wantActive
		})
	}
	cfg := h.load(twoSchedules)
	if _, err := rt.Apply(context.Background(), cfg, nil, "test"); err != nil {
		t.Fatal(err)
	}
	counts(2, 0)

	// The first fire spawns the actor, which handles it and arms the next.
	h.advanceTo(t0.Add(time.Minute))
	h.eventually("the first fire published", func() bool {
		jobs := h.jobs("every-minute")
		return len(jobs) == 1 && jobs[0].Status == store.StatusSucceeded && jobs[0].PlannedAt.Equal(t0.Add(time.Minute))
	})
	counts(1, 1)
	h.advanceTo(t0.Add(2 * time.Minute))
	h.eventually("the second fire published", func() bool { return len(h.jobs("every-minute")) == 2 })

	// A dormant schedule that changes is re-armed, still dormant.
	changed := h.load(strings.Replace(twoSchedules, `cron: "0 * * * *"`, `cron: "30 * * * *"`, 1))
	res, err := rt.Apply(context.Background(), changed, nil, "change")
	if err != nil || res.Changed != 1 || res.Unchanged != 1 {
		t.Fatalf("Apply(changed) = %+v, %v", res, err)
	}
	counts(1, 1)
	for m := 3; m <= 30; m++ {
		h.advanceTo(t0.Add(time.Duration(m) * time.Minute))
	}
	h.eventually("the changed schedule fired at its new time", func() bool {
		jobs := h.jobs("hourly")
		return len(jobs) == 1 && jobs[0].PlannedAt.Equal(t0.Add(30*time.Minute))
	})
	// Its next fire is an hour away: its actor gives it back, dormant
	// again, and it fires at that hour all the same.
	counts(1, 1)
	h.advanceTo(t0.Add(90 * time.Minute))
	h.eventually("the passivated schedule fired again", func() bool {
		jobs := h.jobs("hourly")
		return len(jobs) == 2 && slices.ContainsFunc(jobs, func(j store.Job) bool { return j.PlannedAt.Equal(t0.Add(90 * time.Minute)) })
	})
	counts(1, 1)

	// A dormant schedule that is removed never fires.
	two := h.load(twoSchedules + `
  - id: yearly
    account: brand
    cron: "0 0 1 1 *"
    post: {text: "happy new year"}
`)
	if _, err := rt.Apply(context.Background(), two, nil, "add"); err != nil {
		t.Fatal(err)
	}
	counts(2, 1)
	newYear := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if !h.clock.ArmedAt(newYear) {
		t.Fatal("the dormant schedule's timer is not armed")
	}
	res, err = rt.Apply(context.Background(), changed, nil, "remove")
	if err != nil || res.Removed != 1 {
		t.Fatalf("Apply(removed) = %+v, %v", res, err)
	}
	counts(1, 1)
	if h.clock.ArmedAt(newYear) {
		t.Error("the removed schedule's timer is still armed")
	}

	// Stopping disarms the dormant schedules' timers too.
	if _, err := rt.Apply(context.Background(), two, nil, "again"); err != nil {
		t.Fatal(err)
	}
	counts(2, 1)
	if err := rt.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	if h.clock.ArmedAt(newYear) {
		t.Error("a dormant schedule's timer is still armed after Stop")
	}
}
