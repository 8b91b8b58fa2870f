package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// testFailures: Failures counts the transitions made with Failed, only when
// they apply, and an operator's retry resets it; Attempt keeps counting
// claims.
func testFailures(t *testing.T, h Harness) {
	t.Run("life", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		j := f.inState(store.StatusRunning)
		if j.Failures != 0 {
			t.Fatalf("new job has Failures %d", j.Failures)
		}
		now := t0.Add(time.Minute)
		out := func(from, to store.Status, node string, attempt int, failed bool) store.Job {
			t.Helper()
			return f.mustTransition(store.TransitionParams{JobID: j.ID, From: from, To: to, Node: node, Attempt: attempt,
				Now: now, RetryAt: now, Failed: failed})
		}
		steps := []struct {
			name                  string
			do                    func() store.Job
			wantFailures, attempt int
		}{
			{"failed attempt", func() store.Job {
				return out(store.StatusRunning, store.StatusRetrying, nodeA, 1, true)
			}, 1, 1},
			{"claim", func() store.Job { return f.claim(j.ID, nodeA, now) }, 1, 2},
			{"rate-limit wait costs nothing", func() store.Job {
				return out(store.StatusRunning, store.StatusRetrying, nodeA, 2, false)
			}, 1, 2},
			{"claim", func() store.Job { return f.claim(j.ID, nodeB, now) }, 1, 3},
			{"lease expires", func() store.Job {
				if _, err := f.s.ExpireLeases(f.ctx, store.ExpireLeasesParams{Node: nodeA, Now: now.Add(time.Hour)}); err != nil {
					t.Fatal(err)
				}
				return f.get(j.ID)
			}, 1, 3},
			{"unknown, reconciled as failed", func() store.Job {
				return out(store.StatusUnknown, store.StatusRetrying, nodeA, 0, true)
			}, 2, 3},
			{"claim", func() store.Job { return f.claim(j.ID, nodeA, now) }, 2, 4},
			{"dead", func() store.Job { return out(store.StatusRunning, store.StatusDead, nodeA, 4, true) }, 3, 4},
			{"operator's retry resets", func() store.Job {
				return out(store.StatusDead, store.StatusPlanned, "ctl", 0, false)
			}, 0, 4},
			{"claim", func() store.Job { return f.claim(j.ID, nodeA, now) }, 0, 5},
		}
		for _, s := range steps {
			got := s.do()
			if got.Failures != s.wantFailures || got.Attempt != s.attempt {
				t.Fatalf("after %s: Failures, Attempt = %d, %d; want %d, %d", s.name, got.Failures, got.Attempt, s.wantFailures, s.attempt)
			}
			if err := sameJob(got, f.get(j.ID)); err != nil {
				t.Fatalf("after %s: returned job differs from stored one: %v", s.name, err)
			}
		}
		// Events keep the attempt, as before.
		events := f.events(j.ID)
		if last := events[len(events)-1]; last.Attempt != 5 {
			t.Errorf("last event attempt = %d, want 5", last.Attempt)
		}
	})

	t.Run("refused transitions count nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		j := f.inState(store.StatusRunning)
		cases := []struct {
			name string
			p    store.TransitionParams
			want error
		}{
			{"stale lease", store.TransitionParams{From: store.StatusRunning, To: store.StatusRetrying, Node: nodeB, Attempt: j.Attempt}, store.ErrConflict},
			{"wrong from", store.TransitionParams{From: store.StatusUnknown, To: store.StatusRetrying, Node: nodeA}, store.ErrConflict},
			{"illegal", store.TransitionParams{From: store.StatusRunning, To: store.StatusCancelled, Node: nodeA, Attempt: j.Attempt}, store.ErrIllegalTransition},
			{"Failed on an operator's retry", store.TransitionParams{From: store.StatusDead, To: store.StatusPlanned, Node: "ctl"}, store.ErrInvalid},
		}
		for _, c := range cases {
			c.p.JobID, c.p.Now, c.p.RetryAt, c.p.Failed = j.ID, t0.Add(time.Minute), t0.Add(time.Hour), true
			checkErr(t, f.transition(c.p).Err, c.want)
		}
		if err := sameJob(j, f.get(j.ID)); err != nil {
			t.Errorf("refused transitions changed the job: %v", err)
		}
	})

	t.Run("twice in one batch", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		j := f.inState(store.StatusRunning)
		now := t0.Add(time.Minute)
		res, err := f.s.Transition(f.ctx,
			store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusRetrying, Node: nodeA, Attempt: j.Attempt,
				Now: now, RetryAt: now, Failed: true},
			store.TransitionParams{JobID: j.ID, From: store.StatusRetrying, To: store.StatusCancelled, Node: "ctl", Now: now, Failed: true},
		)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Err != nil || r.Job.Failures != i+1 {
				t.Errorf("item %d: Failures %d, error %v; want %d", i, r.Job.Failures, r.Err, i+1)
			}
		}
		if got := f.get(j.ID).Failures; got != 2 {
			t.Errorf("Failures = %d, want 2", got)
		}
	})

	t.Run("dead letters are listed by status", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		var dead []int64
		for i := range 5 {
			if i%2 == 0 {
				dead = append(dead, f.inState(store.StatusDead).ID)
			} else {
				f.inState(store.StatusRetrying)
				f.inState(store.StatusSucceeded)
			}
		}
		page, err := f.s.ListJobs(f.ctx, store.ListJobsParams{Statuses: []store.Status{store.StatusDead}})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, j := range page.Jobs {
			got = append(got, j.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(dead) {
			t.Errorf("dead jobs listed %v, want %v", got, dead)
		}
	})
}
