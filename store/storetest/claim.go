package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

func testClaim(t *testing.T, h Harness) {
	t.Run("one job, many claimers", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		j := f.create("s")
		const n = 32
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins []store.Change
		)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				p := store.ClaimJobsParams{Node: fmt.Sprintf("n%02d", i), Now: t0, LeaseUntil: t0.Add(time.Minute)}
				if i%2 == 0 {
					p.IDs = []int64{j.ID}
				} else {
					p.Limit = 5
				}
				ch, err := f.s.ClaimJobs(f.ctx, p)
				if err != nil {
					t.Errorf("ClaimJobs: %v", err)
					return
				}
				mu.Lock()
				wins = append(wins, ch...)
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		if len(wins) != 1 {
			t.Fatalf("%d claims won, want exactly 1", len(wins))
		}
		got := f.get(j.ID)
		if got.Attempt != 1 || got.Node != wins[0].Job.Node || got.Status != store.StatusRunning {
			t.Errorf("job after the race = %+v, winner %s", got, wins[0].Job.Node)
		}
		if ev := f.events(j.ID); len(ev) != 2 {
			t.Errorf("%d events, want 2 (create, claim)", len(ev))
		}
	})

	t.Run("many jobs, many claimers", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		var jobs []store.NewJob
		for i := range 200 {
			jobs = append(jobs, store.NewJob{ScheduleID: fmt.Sprintf("s%d", i%7), PlannedAt: t0.Add(time.Duration(i) * time.Second)})
		}
		if _, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Jobs: jobs, Now: t0}); err != nil {
			t.Fatal(err)
		}
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			claimed = map[int64]string{}
		)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				node := fmt.Sprintf("n%d", i)
				for {
					now := t0.Add(time.Hour)
					ch, err := f.s.ClaimJobs(f.ctx, store.ClaimJobsParams{Limit: 7, Node: node, Now: now, LeaseUntil: now.Add(time.Minute)})
					if err != nil {
						t.Errorf("ClaimJobs: %v", err)
						return
					}
					if len(ch) == 0 {
						return
					}
					mu.Lock()
					for _, c := range ch {
						if prev, dup := claimed[c.Job.ID]; dup {
							t.Errorf("job %d claimed by %s and %s", c.Job.ID, prev, node)
						}
						claimed[c.Job.ID] = node
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(claimed) != len(jobs) {
			t.Errorf("%d jobs claimed, want %d", len(claimed), len(jobs))
		}
	})

	t.Run("due order and limit", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		due := func(d time.Duration) time.Time { return t0.Add(d) }
		res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Now: t0, Jobs: []store.NewJob{
			{ScheduleID: "s", PlannedAt: due(0), DueAt: due(30 * time.Second)}, // 0: third
			{ScheduleID: "s", PlannedAt: due(1), DueAt: due(10 * time.Second)}, // 1: first
			{ScheduleID: "s", PlannedAt: due(2), DueAt: due(2 * time.Minute)},  // 2: not due
			{ScheduleID: "t", PlannedAt: due(0), DueAt: due(10 * time.Second)}, // 3: second (same due, higher ID)
			{ScheduleID: "t", PlannedAt: due(3), Status: store.StatusMissed},   // 4: never
		}})
		if err != nil {
			t.Fatal(err)
		}
		id := func(i int) int64 { return res[i].Job.ID }
		// A retrying job whose retry is due competes with planned ones.
		r := f.inState(store.StatusRetrying) // due at t0+1m
		now := t0.Add(time.Minute)
		ch, err := f.s.ClaimJobs(f.ctx, store.ClaimJobsParams{Limit: 3, Node: nodeB, Now: now, LeaseUntil: now.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		checkIDs(t, ch, id(1), id(3), id(0))
		ch, err = f.s.ClaimJobs(f.ctx, store.ClaimJobsParams{Limit: 3, Node: nodeB, Now: now, LeaseUntil: now.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		checkIDs(t, ch, r.ID)
		if ch[0].Event.From != store.StatusRetrying || ch[0].Job.Attempt != 2 {
			t.Errorf("retry claim: event %+v, attempt %d", ch[0].Event, ch[0].Job.Attempt)
		}
		// By ID: only the claimable ones; the not-yet-due one waits.
		ch, err = f.s.ClaimJobs(f.ctx, store.ClaimJobsParams{IDs: []int64{id(2), id(4), id(1), 1 << 40}, Node: nodeA, Now: now, LeaseUntil: now.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		checkIDs(t, ch)
		later := t0.Add(2 * time.Minute)
		ch, err = f.s.ClaimJobs(f.ctx, store.ClaimJobsParams{IDs: []int64{id(2)}, Node: nodeA, Now: later, LeaseUntil: later.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		checkIDs(t, ch, id(2))
	})

	t.Run("planned grace holds back fresh planned jobs only", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Now: t0, Jobs: []store.NewJob{
			{ScheduleID: "old", PlannedAt: t0, DueAt: t0},                         // due 1m before now: past the grace
			{ScheduleID: "fresh", PlannedAt: t0, DueAt: t0.Add(55 * time.Second)}, // due 5s before now: within it
		}})
		if err != nil {
			t.Fatal(err)
		}
		r := f.inState(store.StatusRetrying) // due at t0+1m, claimable at once
		now := t0.Add(time.Minute)
		ch, err := f.s.ClaimJobs(f.ctx, store.ClaimJobsParams{Limit: 10, Node: nodeA, Now: now,
			LeaseUntil: now.Add(time.Minute), PlannedDueBefore: now.Add(-10 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		checkIDs(t, ch, res[0].Job.ID, r.ID)
		_, err = f.s.ClaimJobs(f.ctx, store.ClaimJobsParams{IDs: []int64{res[1].Job.ID}, Node: nodeA, Now: now,
			LeaseUntil: now.Add(time.Minute), PlannedDueBefore: now})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PlannedDueBefore with IDs: error = %v, want ErrInvalid", err)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		cases := []store.ClaimJobsParams{
			{Limit: 1, Now: t0, LeaseUntil: t0.Add(time.Minute)},               // no node
			{Limit: 1, Node: nodeA, LeaseUntil: t0.Add(time.Minute)},           // no now
			{Limit: 1, Node: nodeA, Now: t0},                                   // no lease
			{Limit: 1, Node: nodeA, Now: t0, LeaseUntil: t0},                   // lease not after now
			{Node: nodeA, Now: t0, LeaseUntil: t0.Add(time.Minute)},            // neither IDs nor limit
			{Limit: -1, Node: nodeA, Now: t0, LeaseUntil: t0.Add(time.Minute)}, // negative
		}
		for i, p := range cases {
			if _, err := f.s.ClaimJobs(f.ctx, p); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("case %d: error = %v, want ErrInvalid", i, err)
			}
		}
	})
}

func checkIDs(t testing.TB, got []store.Change, want ...int64) {
	t.Helper()
	ids := make([]int64, len(got))
	for i, c := range got {
		ids[i] = c.Job.ID
	}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("claimed %v, want %v", ids, want)
	}
}
