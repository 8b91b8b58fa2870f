package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// unknownDue creates a job and drives it to unknown, due for reconciliation
// at due.
func (f *fixture) unknownDue(due time.Time) store.Job {
	f.t.Helper()
	j := f.inState(store.StatusRunning)
	return f.mustTransition(store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusUnknown,
		Node: nodeA, Attempt: j.Attempt, Now: t0.Add(time.Second), RetryAt: due})
}

func (f *fixture) claimUnknown(node string, now, until time.Time, limit int) []store.Job {
	f.t.Helper()
	jobs, err := f.s.ClaimUnknown(f.ctx, store.ClaimUnknownParams{Node: node, Now: now, Until: until, Limit: limit})
	if err != nil {
		f.t.Fatalf("ClaimUnknown: %v", err)
	}
	return jobs
}

func jobIDs(jobs []store.Job) []int64 {
	ids := make([]int64, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	return ids
}

// testClaimUnknown: unknown jobs due for a check are taken earliest first,
// at most Limit, each pushed to Until, and never by two callers at once.
func testClaimUnknown(t *testing.T, h Harness) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

	t.Run("order, limit and until", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		third := f.unknownDue(at(3))
		first := f.unknownDue(at(1))
		second := f.unknownDue(at(1)) // same due, higher ID
		notDue := f.unknownDue(at(10))
		f.inState(store.StatusRetrying) // due at t0+1m, not unknown
		f.inState(store.StatusPlanned)
		events := len(f.events(first.ID))
		became := map[int64]time.Time{first.ID: first.UpdatedAt, second.ID: second.UpdatedAt}

		now, until := at(5), at(6)
		got := f.claimUnknown(nodeB, now, until, 2)
		if want := []int64{first.ID, second.ID}; fmt.Sprint(jobIDs(got)) != fmt.Sprint(want) {
			t.Fatalf("claimed %v, want %v", jobIDs(got), want)
		}
		for _, j := range got {
			if j.Status != store.StatusUnknown || j.Node != nodeA || j.Attempt != first.Attempt {
				t.Errorf("claimed job = %+v: still unknown, last owner kept", j)
			}
			checkInstant(t, "DueAt", j.DueAt, until)
			checkInstant(t, "UpdatedAt (when it became unknown)", j.UpdatedAt, became[j.ID])
			if err := sameJob(j, f.get(j.ID)); err != nil {
				t.Errorf("returned job differs from the stored one: %v", err)
			}
		}
		if n := len(f.events(first.ID)); n != events {
			t.Errorf("%d events, want %d (a claim of an unknown job is not a transition)", n, events)
		}
		// The rest that is due, then nothing until Until.
		if got := f.claimUnknown(nodeA, now, at(7), 10); fmt.Sprint(jobIDs(got)) != fmt.Sprint([]int64{third.ID}) {
			t.Errorf("second claim = %v, want [%d]", jobIDs(got), third.ID)
		}
		if got := f.claimUnknown(nodeA, until.Add(-time.Nanosecond), at(8), 10); len(got) != 0 {
			t.Errorf("claim before Until = %v, want none", jobIDs(got))
		}
		// From Until they are due again, in the order of their Until, with
		// the job not due before.
		got = f.claimUnknown(nodeA, at(10), at(11), 10)
		if want := []int64{first.ID, second.ID, third.ID, notDue.ID}; fmt.Sprint(jobIDs(got)) != fmt.Sprint(want) {
			t.Errorf("claim at Until = %v, want %v", jobIDs(got), want)
		}
		// Settled jobs are not checked again.
		f.mustTransition(store.TransitionParams{JobID: first.ID, From: store.StatusUnknown, To: store.StatusSucceeded, Node: nodeA,
			Now: at(11), AppendPostIDs: []string{"found"}})
		if got := f.claimUnknown(nodeA, at(20), at(21), 10); len(got) != 3 {
			t.Errorf("claim after one settled = %v, want 3 jobs", jobIDs(got))
		}
	})

	t.Run("expired leases are due at once", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		j := f.inState(store.StatusRunning) // lease until t0+1m
		now := j.LeaseUntil.Add(time.Nanosecond)
		if _, err := f.s.ExpireLeases(f.ctx, store.ExpireLeasesParams{Node: nodeB, Now: now}); err != nil {
			t.Fatal(err)
		}
		if got := f.claimUnknown(nodeB, now, now.Add(time.Minute), 1); len(got) != 1 || got[0].ID != j.ID {
			t.Errorf("claim after the expiry = %v, want [%d]", jobIDs(got), j.ID)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		j := f.unknownDue(t0)
		cases := []struct {
			name string
			p    store.ClaimUnknownParams
		}{
			{"no node", store.ClaimUnknownParams{Now: at(1), Until: at(2), Limit: 1}},
			{"no now", store.ClaimUnknownParams{Node: nodeA, Until: at(2), Limit: 1}},
			{"no until", store.ClaimUnknownParams{Node: nodeA, Now: at(1), Limit: 1}},
			{"until at now", store.ClaimUnknownParams{Node: nodeA, Now: at(1), Until: at(1), Limit: 1}},
			{"until before now", store.ClaimUnknownParams{Node: nodeA, Now: at(1), Until: at(0), Limit: 1}},
			{"no limit", store.ClaimUnknownParams{Node: nodeA, Now: at(1), Until: at(2)}},
			{"negative limit", store.ClaimUnknownParams{Node: nodeA, Now: at(1), Until: at(2), Limit: -1}},
		}
		for _, c := range cases {
			if _, err := f.s.ClaimUnknown(f.ctx, c.p); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: error = %v, want ErrInvalid", c.name, err)
			}
		}
		if err := sameJob(j, f.get(j.ID)); err != nil {
			t.Errorf("an invalid claim changed the job: %v", err)
		}
	})

	t.Run("concurrent claimers never share a job", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		const n = 60
		for i := range n {
			f.unknownDue(t0.Add(time.Duration(i%7) * time.Second))
		}
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			claimed = map[int64]string{}
		)
		start := make(chan struct{})
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				node := fmt.Sprintf("n%d", i)
				<-start
				for {
					jobs, err := f.s.ClaimUnknown(f.ctx, store.ClaimUnknownParams{Node: node, Now: at(1), Until: at(2), Limit: 3})
					if err != nil {
						t.Errorf("ClaimUnknown: %v", err)
						return
					}
					if len(jobs) == 0 {
						return
					}
					mu.Lock()
					for _, j := range jobs {
						if prev, dup := claimed[j.ID]; dup {
							t.Errorf("job %d claimed by %s and %s", j.ID, prev, node)
						}
						claimed[j.ID] = node
					}
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(claimed) != n {
			t.Errorf("%d jobs claimed, want %d", len(claimed), n)
		}
	})
}
