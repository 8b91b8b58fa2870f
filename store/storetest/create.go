package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

func testCreate(t *testing.T, h Harness) {
	t.Run("defaults and creation event", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		res := f.createJob(store.NewJob{ScheduleID: "s", PlannedAt: t0, CorrelationID: "corr-1", Detail: "fired"})
		j := res.Job
		if !res.Created || j.ID == 0 || j.Status != store.StatusPlanned || j.Trigger != store.TriggerScheduled ||
			!j.DueAt.Equal(t0) || j.Run != 1 || j.Attempt != 0 || j.CorrelationID != "corr-1" || j.Node != "" ||
			!j.LeaseUntil.IsZero() || len(j.PostIDs) != 0 || !j.CreatedAt.Equal(t0) || !j.UpdatedAt.Equal(t0) {
			t.Errorf("created = %v, job = %+v", res.Created, j)
		}
		checkEvent(t, res.Event, store.Event{ID: res.Event.ID, JobID: j.ID, At: t0, From: "", To: store.StatusPlanned,
			Node: nodeA, Detail: "fired"})
		if ev := f.events(j.ID); len(ev) != 1 || ev[0] != res.Event {
			t.Errorf("events = %+v, want the creation event", ev)
		}
		if err := sameJob(j, f.get(j.ID)); err != nil {
			t.Error(err)
		}
	})

	t.Run("missed at creation", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		res := f.createJob(store.NewJob{ScheduleID: "s", PlannedAt: t0, Status: store.StatusMissed, Trigger: store.TriggerCatchup,
			Detail: "2h late, catch-up 1h"})
		if res.Job.Status != store.StatusMissed || res.Event.To != store.StatusMissed || res.Event.From != "" ||
			res.Job.Trigger != store.TriggerCatchup {
			t.Errorf("job %+v, event %+v", res.Job, res.Event)
		}
		// A missed job is not claimable.
		ch, err := f.s.ClaimJobs(f.ctx, store.ClaimJobsParams{Limit: 10, Node: nodeA, Now: t0.Add(time.Hour), LeaseUntil: t0.Add(2 * time.Hour)})
		if err != nil || len(ch) != 0 {
			t.Errorf("ClaimJobs = %d, %v; want nothing", len(ch), err)
		}
	})

	t.Run("dedupe", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		nj := store.NewJob{ScheduleID: "s", PlannedAt: t0, DueAt: t0.Add(time.Second)}
		first := f.createJob(nj)
		// The same fire again, in a batch with itself and a new one, from
		// another node with other details: the first recording stands.
		res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Node: nodeB, Now: t0.Add(time.Minute), Jobs: []store.NewJob{
			{ScheduleID: "s", PlannedAt: t0, DueAt: t0.Add(time.Hour), CorrelationID: "other"},
			{ScheduleID: "s", PlannedAt: t0.Add(time.Minute)},
			{ScheduleID: "s", PlannedAt: t0.Add(time.Minute)},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Created || res[0].Event != (store.Event{}) {
			t.Errorf("recreated: %+v", res[0])
		}
		if err := sameJob(first.Job, res[0].Job); err != nil {
			t.Errorf("existing job not returned unchanged: %v", err)
		}
		if !res[1].Created || res[2].Created || res[1].Job.ID != res[2].Job.ID || res[1].Job.Run != 2 {
			t.Errorf("in-batch duplicate: %+v / %+v", res[1], res[2])
		}
		if n := len(f.events(first.Job.ID)); n != 1 {
			t.Errorf("%d events for the deduped job, want 1", n)
		}
	})

	t.Run("concurrent dedupe", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		const n = 16
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			created int
			ids     = map[int64]bool{}
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Node: fmt.Sprintf("n%d", i), Now: t0,
					Jobs: []store.NewJob{{ScheduleID: "s", PlannedAt: t0}, {ScheduleID: "s", PlannedAt: t0.Add(time.Second)}}})
				if err != nil {
					t.Errorf("CreateJobs: %v", err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, r := range res {
					ids[r.Job.ID] = true
					if r.Created {
						created++
					}
				}
			}()
		}
		wg.Wait()
		if created != 2 || len(ids) != 2 {
			t.Errorf("created %d jobs with %d distinct IDs, want 2 and 2", created, len(ids))
		}
		page, err := f.s.ListJobs(f.ctx, store.ListJobsParams{ScheduleID: "s"})
		if err != nil || len(page.Jobs) != 2 || page.Jobs[0].Run != 1 || page.Jobs[1].Run != 2 {
			t.Errorf("ListJobs = %+v, %v; want runs 1 and 2", page.Jobs, err)
		}
	})

	t.Run("run numbers", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		var jobs []store.NewJob
		for i := range 4 {
			at := t0.Add(time.Duration(i) * time.Hour)
			jobs = append(jobs, store.NewJob{ScheduleID: "a", PlannedAt: at}, store.NewJob{ScheduleID: "b", PlannedAt: at})
		}
		jobs[2].Status = store.StatusMissed    // a, 2nd
		jobs[5].Trigger = store.TriggerManual  // b, 3rd
		jobs[6].Trigger = store.TriggerCatchup // a, 4th
		res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Jobs: jobs, Node: nodeA, Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if want := int64(i/2 + 1); r.Job.Run != want {
				t.Errorf("job %d (%s): run %d, want %d", i, r.Job.ScheduleID, r.Job.Run, want)
			}
		}
		// Later batches continue, a duplicate takes no number.
		res, err = f.s.CreateJobs(f.ctx, store.CreateJobsParams{Node: nodeA, Now: t0, Jobs: []store.NewJob{
			{ScheduleID: "a", PlannedAt: t0}, {ScheduleID: "a", PlannedAt: t0.Add(-time.Hour)}, {ScheduleID: "c", PlannedAt: t0}}})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Job.Run != 1 || res[1].Job.Run != 5 || res[2].Job.Run != 1 {
			t.Errorf("runs = %d, %d, %d; want 1, 5, 1", res[0].Job.Run, res[1].Job.Run, res[2].Job.Run)
		}
	})

	t.Run("created and claimed in one transaction", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		before := f.createJob(store.NewJob{ScheduleID: "dup", PlannedAt: t0})
		lease := t0.Add(time.Minute)
		res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Now: t0, Node: nodeA, ClaimLeaseUntil: lease, Jobs: []store.NewJob{
			{ScheduleID: "due", PlannedAt: t0},                                // claimed
			{ScheduleID: "later", PlannedAt: t0, DueAt: t0.Add(time.Second)},  // not due: stays planned
			{ScheduleID: "missed", PlannedAt: t0, Status: store.StatusMissed}, // never claimed
			{ScheduleID: "dup", PlannedAt: t0},                                // not created here: not claimed
			{ScheduleID: "due", PlannedAt: t0},                                // a copy in the batch
			{ScheduleID: "due2", PlannedAt: t0.Add(-time.Second)},             // claimed too
		}})
		if err != nil {
			t.Fatal(err)
		}
		c := res[0].Claim
		if c == nil || c.Job.Status != store.StatusRunning || c.Job.Attempt != 1 || c.Job.Node != nodeA ||
			!c.Job.LeaseUntil.Equal(lease) || c.Event.From != store.StatusPlanned || c.Event.To != store.StatusRunning {
			t.Fatalf("claim of the due job = %+v", c)
		}
		if res[0].Job.Status != store.StatusPlanned || res[0].Event.To != store.StatusPlanned {
			t.Errorf("the result's Job and Event are the creation: %+v %+v", res[0].Job, res[0].Event)
		}
		// What is stored is what the claim says.
		if got := f.get(res[0].Job.ID); got.Status != c.Job.Status || got.Attempt != c.Job.Attempt || got.Node != c.Job.Node ||
			!got.LeaseUntil.Equal(c.Job.LeaseUntil) || !got.UpdatedAt.Equal(c.Job.UpdatedAt) || got.Run != c.Job.Run {
			t.Errorf("stored job = %+v, claim says %+v", got, c.Job)
		}
		// Claim events follow every creation event of the batch, in
		// (due_at, id) order: due2 (due a second earlier) first.
		c2 := res[5].Claim
		if c2 == nil {
			t.Fatalf("the second due job was not claimed: %+v", res[5])
		}
		for _, r := range res {
			if r.Created && r.Event.ID >= c2.Event.ID {
				t.Errorf("creation event %d not before the claim events (%d, %d)", r.Event.ID, c2.Event.ID, c.Event.ID)
			}
		}
		if c2.Event.ID >= c.Event.ID {
			t.Errorf("claim events %d (due2) and %d (due): want due2's first", c2.Event.ID, c.Event.ID)
		}
		for i := 1; i < len(res)-1; i++ {
			if res[i].Claim != nil {
				t.Errorf("result %d claimed: %+v", i, res[i].Claim)
			}
		}
		if got := f.get(res[1].Job.ID).Status; got != store.StatusPlanned {
			t.Errorf("the job not yet due is %s, want planned", got)
		}
		if got := f.get(before.Job.ID).Status; got != store.StatusPlanned {
			t.Errorf("the job created earlier is %s, want planned", got)
		}
		if ev := f.events(res[0].Job.ID); len(ev) != 2 || ev[1] != c.Event {
			t.Errorf("events = %+v, want creation then claim", ev)
		}
		if _, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Now: t0, ClaimLeaseUntil: lease,
			Jobs: []store.NewJob{{ScheduleID: "x", PlannedAt: t0}}}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("a claim without Node: error = %v, want ErrInvalid", err)
		}
		if _, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Now: t0, Node: nodeA, ClaimLeaseUntil: t0,
			Jobs: []store.NewJob{{ScheduleID: "y", PlannedAt: t0}}}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("a lease not after Now: error = %v, want ErrInvalid", err)
		}
		if len(f.jobsOf("x"))+len(f.jobsOf("y")) != 0 {
			t.Error("an invalid call recorded jobs")
		}
	})

	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		good := store.NewJob{ScheduleID: "s", PlannedAt: t0}
		cases := []struct {
			name string
			p    store.CreateJobsParams
		}{
			{"no now", store.CreateJobsParams{Jobs: []store.NewJob{good}}},
			{"no schedule", store.CreateJobsParams{Now: t0, Jobs: []store.NewJob{good, {PlannedAt: t0}}}},
			{"no planned time", store.CreateJobsParams{Now: t0, Jobs: []store.NewJob{good, {ScheduleID: "s"}}}},
			{"created running", store.CreateJobsParams{Now: t0, Jobs: []store.NewJob{good, {ScheduleID: "s", PlannedAt: t0.Add(1), Status: store.StatusRunning}}}},
			{"unknown trigger", store.CreateJobsParams{Now: t0, Jobs: []store.NewJob{good, {ScheduleID: "s", PlannedAt: t0.Add(1), Trigger: "cron"}}}},
			{"out of range", store.CreateJobsParams{Now: t0, Jobs: []store.NewJob{good, {ScheduleID: "s", PlannedAt: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}}}},
		}
		for _, c := range cases {
			_, err := f.s.CreateJobs(f.ctx, c.p)
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: error = %v, want ErrInvalid", c.name, err)
			}
		}
		page, err := f.s.ListJobs(f.ctx, store.ListJobsParams{})
		if err != nil || len(page.Jobs) != 0 {
			t.Errorf("invalid batches recorded %d jobs (%v)", len(page.Jobs), err)
		}
		res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Now: t0})
		if err != nil || len(res) != 0 {
			t.Errorf("empty batch = %v, %v", res, err)
		}
	})
}

func testLatestFires(t *testing.T, h Harness) {
	f := newFixture(t, h)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	_, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Node: nodeA, Now: t0, Jobs: []store.NewJob{
		{ScheduleID: "a", PlannedAt: at(2)},
		{ScheduleID: "a", PlannedAt: at(1)}, // recorded late (catch-up): not the latest
		{ScheduleID: "a", PlannedAt: at(9), Trigger: store.TriggerManual},
		{ScheduleID: "b", PlannedAt: at(3), Status: store.StatusMissed},
		{ScheduleID: "m", PlannedAt: at(4), Trigger: store.TriggerManual},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// One query for many schedules, most unknown.
	ids := make([]string, 0, 100_000)
	for i := range cap(ids) - 4 {
		ids = append(ids, fmt.Sprintf("schedule-%06d", i))
	}
	ids = append(ids, "a", "b", "m", "never")
	got, err := f.s.LatestFires(f.ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.Fire{"a": {PlannedAt: at(2), Run: 3}, "b": {PlannedAt: at(3), Run: 1}, "m": {Run: 1}}
	if len(got) != len(want) {
		t.Errorf("LatestFires = %v, want %v", got, want)
	}
	for id, w := range want {
		g := got[id]
		if !g.PlannedAt.Equal(w.PlannedAt) || g.Run != w.Run || (!g.PlannedAt.IsZero() && g.PlannedAt.Location() != time.UTC) {
			t.Errorf("LatestFires[%s] = %+v, want %+v", id, g, w)
		}
	}
	if got, err := f.s.LatestFires(f.ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("LatestFires(nil) = %v, %v", got, err)
	}
}

// testTimes: instants come back as the same instant, in UTC, to the
// nanosecond, whatever zone they were written in.
func testTimes(t *testing.T, h Harness) {
	f := newFixture(t, h)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	planned := time.Date(2031, 3, 9, 2, 30, 0, 987654321, ny)
	due := planned.Add(1500 * time.Millisecond)
	now := time.Date(2031, 3, 9, 7, 31, 0, 1, time.FixedZone("X", 5*3600+1800))
	res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Now: now, Node: nodeA,
		Jobs: []store.NewJob{{ScheduleID: "s", PlannedAt: planned, DueAt: due}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []store.Job{res[0].Job, f.get(res[0].Job.ID)} {
		for name, got := range map[string][2]time.Time{"PlannedAt": {j.PlannedAt, planned}, "DueAt": {j.DueAt, due},
			"CreatedAt": {j.CreatedAt, now}, "UpdatedAt": {j.UpdatedAt, now}} {
			if !got[0].Equal(got[1]) || got[0].Location() != time.UTC {
				t.Errorf("%s = %v, want %v in UTC", name, got[0], got[1].UTC())
			}
		}
	}
	// The dedupe key is the instant, not its zone: the same instant written
	// in UTC is the same fire.
	res2, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Now: now, Jobs: []store.NewJob{{ScheduleID: "s", PlannedAt: planned.UTC()}}})
	if err != nil || res2[0].Created || res2[0].Job.ID != res[0].Job.ID {
		t.Errorf("same instant in UTC: created=%v id=%d (%v), want the existing job %d", res2[0].Created, res2[0].Job.ID, err, res[0].Job.ID)
	}
	// One nanosecond later is another fire.
	res3, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Now: now, Jobs: []store.NewJob{{ScheduleID: "s", PlannedAt: planned.Add(1)}}})
	if err != nil || !res3[0].Created {
		t.Errorf("a nanosecond later: created=%v (%v), want a new job", res3[0].Created, err)
	}
	lease := due.Add(90*time.Second + 7)
	now = due // (02:30 does not exist that day in New York: Go moved it to 03:30 EDT, after the first now)
	ch, err := f.s.ClaimJobs(f.ctx, store.ClaimJobsParams{IDs: []int64{res[0].Job.ID}, Node: nodeA, Now: now, LeaseUntil: lease})
	if err != nil || len(ch) != 1 {
		t.Fatalf("claim: %v", err)
	}
	if j := f.get(ch[0].Job.ID); !j.LeaseUntil.Equal(lease) || j.LeaseUntil.Location() != time.UTC {
		t.Errorf("LeaseUntil = %v, want %v", j.LeaseUntil, lease)
	}
	if ev := f.events(ch[0].Job.ID); !ev[1].At.Equal(now) || ev[1].At.Location() != time.UTC {
		t.Errorf("event At = %v, want %v", ev[1].At, now)
	}
}
