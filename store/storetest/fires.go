package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// testAllLatestFires: AllLatestFires returns the latest fire of every
// schedule with a record and of no other, as LatestFires reports it; and
// LatestFires gives the same answers for a list of IDs long enough that a
// store may read the whole table instead of looking each one up.
func testAllLatestFires(t *testing.T, h Harness) {
	f := newFixture(t, h)
	if got, err := f.s.AllLatestFires(f.ctx); err != nil || len(got) != 0 {
		t.Fatalf("AllLatestFires of an empty store = %v, %v", got, err)
	}

	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	jobs := []store.NewJob{
		{ScheduleID: "a", PlannedAt: at(2)},
		{ScheduleID: "a", PlannedAt: at(1), Trigger: store.TriggerCatchup}, // recorded late: not the latest
		{ScheduleID: "a", PlannedAt: at(9), Trigger: store.TriggerManual},
		{ScheduleID: "b", PlannedAt: at(3), Status: store.StatusMissed},
		{ScheduleID: "m", PlannedAt: at(4), Trigger: store.TriggerManual},
	}
	want := map[string]store.Fire{"a": {PlannedAt: at(2), Run: 3}, "b": {PlannedAt: at(3), Run: 1}, "m": {Run: 1}}
	for i := range 40 {
		id := fmt.Sprintf("s-%02d", i)
		jobs = append(jobs, store.NewJob{ScheduleID: id, PlannedAt: at(10 + i)})
		want[id] = store.Fire{PlannedAt: at(10 + i), Run: 1}
	}
	if _, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Node: nodeA, Now: t0, Jobs: jobs}); err != nil {
		t.Fatal(err)
	}
	all, err := f.s.AllLatestFires(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkFires(t, "AllLatestFires", all, want)

	// Statistics, as a table that has lived has them: a store may choose
	// from them how to read many IDs.
	h.Exec(t, f.s, `ANALYZE schedule_fires`)
	ids := make([]string, 0, 20_000)
	for i := range cap(ids) - 25 {
		ids = append(ids, fmt.Sprintf("unknown-%05d", i))
	}
	named := map[string]store.Fire{}
	for i := 0; i < 40; i += 2 {
		id := fmt.Sprintf("s-%02d", i)
		ids, named[id] = append(ids, id), want[id]
	}
	ids = append(ids, "a", "m", "a", "never", "")
	named["a"], named["m"] = want["a"], want["m"]
	got, err := f.s.LatestFires(f.ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	checkFires(t, "LatestFires of 20,000 IDs", got, named)
	got, err = f.s.LatestFires(f.ctx, []string{"b", "never"})
	if err != nil {
		t.Fatal(err)
	}
	checkFires(t, "LatestFires of 2 IDs", got, map[string]store.Fire{"b": want["b"]})
}

// checkFires compares fires by instant, and checks they are in UTC.
func checkFires(t *testing.T, what string, got, want map[string]store.Fire) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d fires, want %d: %v", what, len(got), len(want), got)
	}
	for id, w := range want {
		g, ok := got[id]
		if !ok || !g.PlannedAt.Equal(w.PlannedAt) || g.Run != w.Run || (!g.PlannedAt.IsZero() && g.PlannedAt.Location() != time.UTC) {
			t.Errorf("%s[%s] = %+v (present: %t), want %+v", what, id, g, ok, w)
		}
	}
}
