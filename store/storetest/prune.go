package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// terminalAt creates a job and drives it to status (succeeded, dead,
// cancelled or missed) at the instant at, with tasks on a success.
func (f *fixture) terminalAt(status store.Status, at time.Time, posts []string, tasks ...stage) store.Job {
	f.t.Helper()
	j := f.create("prune-" + string(status))
	from := store.StatusPlanned
	if status == store.StatusSucceeded || status == store.StatusDead {
		j = f.claim(j.ID, nodeA, at)
		from = store.StatusRunning
	}
	return f.mustTransition(store.TransitionParams{JobID: j.ID, From: from, To: status, Node: nodeA, Attempt: j.Attempt,
		Now: at, AppendPostIDs: posts, MetricsTasks: newTasks(tasks...)})
}

func (f *fixture) prune(p store.PruneParams) store.PruneResult {
	f.t.Helper()
	res, err := f.s.PruneJobs(f.ctx, p)
	if err != nil {
		f.t.Fatalf("PruneJobs(%+v): %v", p, err)
	}
	return res
}

// checkGone fails unless the job and its events are gone.
func (f *fixture) checkGone(j store.Job) {
	f.t.Helper()
	if _, err := f.s.GetJob(f.ctx, j.ID); !errors.Is(err, store.ErrNotFound) {
		f.t.Fatalf("GetJob(%d, %s) after pruning: %v, want ErrNotFound", j.ID, j.Status, err)
	}
	if ev := f.events(j.ID); len(ev) != 0 {
		f.t.Fatalf("job %d (%s) pruned but %d events left", j.ID, j.Status, len(ev))
	}
}

// checkKept fails unless the job is unchanged and has its events.
func (f *fixture) checkKept(j store.Job, events int) {
	f.t.Helper()
	if err := sameJob(f.get(j.ID), j); err != nil {
		f.t.Fatalf("job %d (%s) changed by pruning: %v", j.ID, j.Status, err)
	}
	if n := len(f.events(j.ID)); n != events {
		f.t.Fatalf("job %d (%s) has %d events after pruning, want %d", j.ID, j.Status, n, events)
	}
}

func testPrune(t *testing.T, h Harness) {
	t.Run("only old terminal jobs, dead letters later, never one in flight", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		type kept struct {
			job    store.Job
			events int
		}
		var old []kept // every status, last changed at t0 or t0+1s
		for _, s := range store.Statuses() {
			j := f.inState(s)
			old = append(old, kept{j, len(f.events(j.ID))})
		}
		recent := t0.Add(48 * time.Hour)
		var young []kept
		for _, s := range []store.Status{store.StatusSucceeded, store.StatusCancelled, store.StatusMissed, store.StatusDead} {
			j := f.terminalAt(s, recent, nil)
			young = append(young, kept{j, len(f.events(j.ID))})
		}
		wantEvents := func(statuses ...store.Status) (n int) {
			for _, k := range old {
				for _, s := range statuses {
					if k.job.Status == s {
						n += k.events
					}
				}
			}
			return n
		}

		day := t0.Add(24 * time.Hour)
		res := f.prune(store.PruneParams{Before: day, Limit: 100})
		if want := (store.PruneResult{Jobs: 3, Events: wantEvents(store.StatusSucceeded, store.StatusCancelled, store.StatusMissed)}); res != want {
			t.Fatalf("first prune = %+v, want %+v", res, want)
		}
		for _, k := range old {
			if k.job.Status.Terminal() {
				f.checkGone(k.job)
			} else {
				f.checkKept(k.job, k.events)
			}
		}
		for _, k := range young {
			f.checkKept(k.job, k.events)
		}

		res = f.prune(store.PruneParams{Before: day, DeadBefore: day, Limit: 100})
		if want := (store.PruneResult{Jobs: 1, Events: wantEvents(store.StatusDead)}); res != want {
			t.Fatalf("prune with DeadBefore = %+v, want %+v", res, want)
		}

		// Cutoffs far in the future: every young job goes, none in flight.
		never := t0.Add(100 * 365 * 24 * time.Hour)
		res = f.prune(store.PruneParams{Before: never, DeadBefore: never, Limit: 100})
		if res.Jobs != len(young) {
			t.Fatalf("prune of everything = %+v, want %d jobs", res, len(young))
		}
		for _, k := range young {
			f.checkGone(k.job)
		}
		for _, k := range old {
			if !k.job.Status.Terminal() && k.job.Status != store.StatusDead {
				f.checkKept(k.job, k.events)
			}
		}
		if res := f.prune(store.PruneParams{Before: never, DeadBefore: never, Limit: 100}); res != (store.PruneResult{}) {
			t.Fatalf("prune with nothing left = %+v", res)
		}
	})

	t.Run("limit, oldest first", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		var jobs []store.Job
		for i := range 5 {
			// Created in reverse order of age: age, not ID, decides.
			jobs = append(jobs, f.terminalAt(store.StatusMissed, t0.Add(time.Duration(10-i)*time.Hour), nil))
		}
		p := store.PruneParams{Before: t0.Add(100 * time.Hour), Limit: 2}
		for i, want := range []int{2, 2, 1, 0} {
			if res := f.prune(p); res.Jobs != want {
				t.Fatalf("prune %d deleted %d jobs, want %d", i, res.Jobs, want)
			}
			if i == 0 {
				f.checkGone(jobs[4])
				f.checkGone(jobs[3])
				f.checkKept(jobs[2], 2)
			}
		}
	})

	t.Run("snapshots and tasks go with their job only", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		j := f.terminalAt(store.StatusSucceeded, t0, []string{"p"},
			stage{acctA, "p", time.Hour, time.Hour}, stage{acctA, "p", 24 * time.Hour, 1000 * time.Hour})
		k := f.terminalAt(store.StatusSucceeded, t0.Add(48*time.Hour), []string{"q"}, stage{acctA, "q", time.Hour, time.Hour})
		now := t0.Add(2 * time.Hour)
		tasks := f.claimTasks(acctA, nodeA, now, 10)
		if len(tasks) != 2 {
			t.Fatalf("claimed %d tasks, want 2", len(tasks))
		}
		for _, task := range tasks {
			checkErr(t, f.complete(nodeA, now, store.MetricsSnapshot{TaskID: task.ID, Likes: 1})[0], nil)
		}
		jEvents := len(f.events(j.ID))
		res := f.prune(store.PruneParams{Before: t0.Add(24 * time.Hour), Limit: 10})
		if want := (store.PruneResult{Jobs: 1, Events: jEvents, Snapshots: 1, Tasks: 1}); res != want {
			t.Fatalf("prune = %+v, want %+v", res, want)
		}
		if snaps := f.postMetrics(j.ID); len(snaps) != 0 {
			t.Fatalf("pruned job keeps %d snapshots", len(snaps))
		}
		if snaps := f.postMetrics(k.ID); len(snaps) != 1 {
			t.Fatalf("kept job has %d snapshots, want 1", len(snaps))
		}
		if left := f.allTasks(acctA); len(left) != 0 {
			t.Fatalf("tasks left after pruning = %+v, want none", left)
		}
	})

	t.Run("invalid parameters", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		for _, p := range []store.PruneParams{{Limit: 10}, {Before: t0}, {Before: t0, Limit: -1}} {
			_, err := f.s.PruneJobs(f.ctx, p)
			checkErr(t, err, store.ErrInvalid)
		}
	})

	t.Run("job stats", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		st, err := f.s.JobStats(f.ctx)
		if err != nil || st.Jobs != 0 || !st.OldestPlannedAt.IsZero() {
			t.Fatalf("JobStats of an empty store = %+v, %v", st, err)
		}
		first := f.create("a")
		f.create("b")
		f.terminalAt(store.StatusMissed, t0, nil)
		st, err = f.s.JobStats(f.ctx)
		if err != nil || !st.OldestPlannedAt.Equal(first.PlannedAt) {
			t.Fatalf("JobStats = %+v, %v; want the oldest planned at %v", st, err, first.PlannedAt)
		}
		// An estimate (Postgres, once the table is analysed) is only
		// checked for sense; a count must be exact.
		if (!st.Approximate && st.Jobs != 3) || st.Jobs < 0 {
			t.Fatalf("JobStats = %+v, want 3 jobs", st)
		}
	})
}
