package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

func testEvents(t *testing.T, h Harness) {
	f := newFixture(t, h)
	// A whole life: created, claimed, failed, reclaimed, succeeded.
	j := f.create("s")
	j = f.claim(j.ID, nodeA, t0)
	f.mustTransition(store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusRetrying, Node: nodeA,
		Attempt: 1, Now: t0.Add(time.Second), RetryAt: t0.Add(time.Minute), Detail: "503"})
	j = f.claim(j.ID, nodeB, t0.Add(time.Minute))
	f.mustTransition(store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusSucceeded, Node: nodeB,
		Attempt: 2, Now: t0.Add(2 * time.Minute), Detail: "posted"})
	other := f.create("other") // interleaves in the global log

	type ev struct {
		from, to store.Status
		node     string
		attempt  int
		detail   string
	}
	want := []ev{
		{"", store.StatusPlanned, nodeA, 0, ""},
		{store.StatusPlanned, store.StatusRunning, nodeA, 1, ""},
		{store.StatusRunning, store.StatusRetrying, nodeA, 1, "503"},
		{store.StatusRetrying, store.StatusRunning, nodeB, 2, ""},
		{store.StatusRunning, store.StatusSucceeded, nodeB, 2, "posted"},
	}
	events := f.events(j.ID)
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(events), len(want), events)
	}
	for i, e := range events {
		if got := (ev{e.From, e.To, e.Node, e.Attempt, e.Detail}); got != want[i] || e.JobID != j.ID {
			t.Errorf("event %d = %+v, want %+v", i, got, want[i])
		}
		if i > 0 && e.ID <= events[i-1].ID {
			t.Errorf("event IDs not increasing: %d after %d", e.ID, events[i-1].ID)
		}
	}
	if ev := f.events(1 << 40); len(ev) != 0 {
		t.Errorf("events of no job = %+v", ev)
	}

	// The global stream, read in small pages, is every event once, in order.
	var all []store.Event
	for after := int64(0); ; {
		page, err := f.s.ListEvents(f.ctx, store.ListEventsParams{AfterID: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 2 {
			t.Fatalf("page of %d events, limit 2", len(page))
		}
		all = append(all, page...)
		after = page[len(page)-1].ID
	}
	if len(all) != len(want)+1 {
		t.Fatalf("stream has %d events, want %d", len(all), len(want)+1)
	}
	if !slices.IsSortedFunc(all, func(a, b store.Event) int { return cmp.Compare(a.ID, b.ID) }) {
		t.Errorf("stream out of order")
	}
	if last := all[len(all)-1]; last.JobID != other.ID {
		t.Errorf("last event is of job %d, want %d", last.JobID, other.ID)
	}
	if page, err := f.s.ListEvents(f.ctx, store.ListEventsParams{AfterID: all[len(all)-1].ID}); err != nil || len(page) != 0 {
		t.Errorf("after the last event: %d, %v", len(page), err)
	}
	if id, err := f.s.LatestEventID(f.ctx); err != nil || id != all[len(all)-1].ID {
		t.Errorf("LatestEventID = %d, %v; want %d", id, err, all[len(all)-1].ID)
	}
}

func testListJobs(t *testing.T, h Harness) {
	f := newFixture(t, h)
	// 3 schedules firing at the same instants: equal planned_at, paged by ID.
	var jobs []store.NewJob
	for i := range 10 {
		for _, s := range []string{"a", "b", "c"} {
			jobs = append(jobs, store.NewJob{ScheduleID: s, PlannedAt: t0.Add(time.Duration(10-i) * time.Minute)})
		}
	}
	res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Jobs: jobs, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	all := make([]store.Job, len(res))
	for i, r := range res {
		all[i] = r.Job
	}
	slices.SortFunc(all, func(a, b store.Job) int {
		return cmp.Or(a.PlannedAt.Compare(b.PlannedAt), cmp.Compare(a.ID, b.ID))
	})
	// Cancel a few so status filters have something to find.
	for i, j := range all[:5] {
		all[i] = f.mustTransition(store.TransitionParams{JobID: j.ID, From: store.StatusPlanned, To: store.StatusCancelled, Node: "ctl", Now: t0})
	}

	list := func(p store.ListJobsParams, grow func(page int)) []store.Job {
		t.Helper()
		var got []store.Job
		for page := 0; ; page++ {
			res, err := f.s.ListJobs(f.ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Jobs) > p.Limit {
				t.Fatalf("page of %d, limit %d", len(res.Jobs), p.Limit)
			}
			got = append(got, res.Jobs...)
			if res.NextPageToken == "" {
				return got
			}
			if page > 100 {
				t.Fatal("paging does not end")
			}
			if grow != nil {
				grow(page)
			}
			p.PageToken = res.NextPageToken
		}
	}
	ids := func(js []store.Job) string {
		out := make([]int64, len(js))
		for i, j := range js {
			out[i] = j.ID
		}
		return fmt.Sprint(out)
	}
	filter := func(keep func(store.Job) bool) []store.Job {
		var out []store.Job
		for _, j := range all {
			if keep(j) {
				out = append(out, j)
			}
		}
		return out
	}

	cases := []struct {
		name string
		p    store.ListJobsParams
		want []store.Job
	}{
		{"all", store.ListJobsParams{Limit: 7}, all},
		{"exact pages", store.ListJobsParams{Limit: 10}, all},
		{"one schedule", store.ListJobsParams{ScheduleID: "b", Limit: 4}, filter(func(j store.Job) bool { return j.ScheduleID == "b" })},
		{"statuses", store.ListJobsParams{Statuses: []store.Status{store.StatusCancelled, store.StatusDead}, Limit: 2}, all[:5]},
		{"range", store.ListJobsParams{PlannedFrom: t0.Add(3 * time.Minute), PlannedTo: t0.Add(6 * time.Minute), Limit: 4},
			filter(func(j store.Job) bool {
				return !j.PlannedAt.Before(t0.Add(3*time.Minute)) && j.PlannedAt.Before(t0.Add(6*time.Minute))
			})},
		{"all filters", store.ListJobsParams{ScheduleID: "c", Statuses: []store.Status{store.StatusPlanned}, PlannedTo: t0.Add(5 * time.Minute), Limit: 1},
			filter(func(j store.Job) bool {
				return j.ScheduleID == "c" && j.Status == store.StatusPlanned && j.PlannedAt.Before(t0.Add(5*time.Minute))
			})},
		{"nothing", store.ListJobsParams{ScheduleID: "zzz", Limit: 5}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := list(c.p, nil)
			if ids(got) != ids(c.want) {
				t.Errorf("listed %s\n     want %s", ids(got), ids(c.want))
			}
		})
	}

	t.Run("stable while jobs are added", func(t *testing.T) {
		// Jobs added behind the cursor are not seen, jobs ahead are, and
		// nothing is listed twice.
		var added []store.Job
		got := list(store.ListJobsParams{ScheduleID: "d", Limit: 3}, nil)
		if len(got) != 0 {
			t.Fatal("schedule d not empty")
		}
		seed, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Now: t0, Jobs: []store.NewJob{
			{ScheduleID: "d", PlannedAt: t0.Add(10 * time.Minute)}, {ScheduleID: "d", PlannedAt: t0.Add(20 * time.Minute)},
			{ScheduleID: "d", PlannedAt: t0.Add(30 * time.Minute)}, {ScheduleID: "d", PlannedAt: t0.Add(40 * time.Minute)}}})
		if err != nil {
			t.Fatal(err)
		}
		got = list(store.ListJobsParams{ScheduleID: "d", Limit: 2}, func(page int) {
			res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Now: t0, Jobs: []store.NewJob{
				{ScheduleID: "d", PlannedAt: t0.Add(time.Duration(page) * time.Minute)},      // behind
				{ScheduleID: "d", PlannedAt: t0.Add(time.Duration(50+page) * time.Minute)}}}) // ahead
			if err != nil {
				t.Fatal(err)
			}
			added = append(added, res[1].Job)
		})
		want := []store.Job{seed[0].Job, seed[1].Job, seed[2].Job, seed[3].Job}
		want = append(want, added...)
		if ids(got) != ids(want) {
			t.Errorf("listed %s\n     want %s", ids(got), ids(want))
		}
	})

	t.Run("bad token", func(t *testing.T) {
		for _, tok := range []string{"garbage!", "bm90IGEgdG9rZW4", "ajE6eDox"} {
			if _, err := f.s.ListJobs(f.ctx, store.ListJobsParams{PageToken: tok}); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("token %q: error = %v, want ErrInvalid", tok, err)
			}
		}
		if _, err := f.s.ListJobs(f.ctx, store.ListJobsParams{Statuses: []store.Status{"paused"}}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("unknown status: error = %v, want ErrInvalid", err)
		}
	})

	t.Run("get missing", func(t *testing.T) {
		if _, err := f.s.GetJob(f.ctx, 1<<40); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetJob of no job: %v, want ErrNotFound", err)
		}
	})
}

func testMigrations(t *testing.T, h Harness) {
	f := newFixture(t, h)
	v, err := f.s.SchemaVersion(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v.Binary < 1 || v.Database != v.Binary {
		t.Fatalf("SchemaVersion = %+v, want database == binary >= 1", v)
	}
	j := f.create("s")
	// Idempotent, and keeps the data.
	for range 2 {
		if err := f.s.Migrate(f.ctx); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
	}
	if v2, err := f.s.SchemaVersion(f.ctx); err != nil || v2 != v {
		t.Errorf("SchemaVersion after re-migrating = %+v, %v", v2, err)
	}
	f.get(j.ID)
	// Reopening a current database works with and without migration.
	for _, migrate := range []bool{false, true} {
		s2, err := h.Reopen(t, f.s, migrate)
		if err != nil {
			t.Fatalf("Reopen(migrate=%v): %v", migrate, err)
		}
		if _, err := s2.GetJob(f.ctx, j.ID); err != nil {
			t.Errorf("reopened store: %v", err)
		}
		s2.Close()
	}

	// A database migrated by a newer Herald is refused, whatever the path.
	future := v.Binary + 4
	h.Exec(t, f.s, fmt.Sprintf(`INSERT INTO schema_migrations (version, name) VALUES (%d, 'from_the_future')`, future))
	wantMsg := fmt.Sprintf("database schema version %d is newer than this Herald (knows up to %d): upgrade Herald", future, v.Binary)
	check := func(what string, err error) {
		t.Helper()
		var se *store.SchemaError
		if !errors.Is(err, store.ErrSchemaTooNew) || !errors.As(err, &se) || se.Version.Database != future {
			t.Errorf("%s: error = %v, want ErrSchemaTooNew", what, err)
		} else if !strings.Contains(err.Error(), wantMsg) {
			t.Errorf("%s: message %q lacks %q", what, err, wantMsg)
		}
	}
	check("Migrate", f.s.Migrate(f.ctx))
	for _, migrate := range []bool{false, true} {
		s2, err := h.Reopen(t, f.s, migrate)
		if err == nil {
			s2.Close()
		}
		check(fmt.Sprintf("Reopen(migrate=%v)", migrate), err)
	}
	if v2, err := f.s.SchemaVersion(f.ctx); err != nil || v2.Database != future {
		t.Errorf("SchemaVersion = %+v, %v", v2, err)
	}
	f.get(j.ID) // refused, not damaged
}
