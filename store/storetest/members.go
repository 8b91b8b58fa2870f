package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// nodeString prints a node with its instants as Unix nanoseconds and their
// zones, so a truncated or local time shows.
func nodeString(n store.Node) string {
	return fmt.Sprintf("%s addr=%s v=%s rev=%s started=%d/%s seen=%d/%s dry=%t redis=%q store=%q inflight=%d", n.ID, n.Address,
		n.Version, n.Revision, n.StartedAt.UnixNano(), n.StartedAt.Location(), n.LastSeen.UnixNano(), n.LastSeen.Location(),
		n.DryRun, n.RedisHealth, n.StoreHealth, n.InFlight)
}

func (f *fixture) nodes() []string {
	f.t.Helper()
	ns, err := f.s.ListNodes(f.ctx)
	if err != nil {
		f.t.Fatalf("ListNodes: %v", err)
	}
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = nodeString(n)
	}
	return out
}

func checkList(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// testNodes: a heartbeat inserts or replaces the node's row, field for
// field; ForgetBefore drops the silent nodes but never the beating one;
// RemoveNode deletes.
func testNodes(t *testing.T, h Harness) {
	f := newFixture(t, h)
	checkList(t, "no node yet", f.nodes())
	beat := func(n store.Node, now, forget time.Time) {
		t.Helper()
		if err := f.s.Heartbeat(f.ctx, store.HeartbeatParams{Node: n, Now: now, ForgetBefore: forget}); err != nil {
			t.Fatalf("Heartbeat(%s): %v", n.ID, err)
		}
	}
	started := t0.Add(-time.Hour)
	a := store.Node{ID: nodeA, Address: "http://10.0.0.1:8080", Version: "v1.2.3", Revision: "rev-1", StartedAt: started,
		DryRun: true, RedisHealth: "ok", StoreHealth: "ok", InFlight: 3}
	b := store.Node{ID: nodeB, Address: "http://b:8080", Version: "v1.2.4", Revision: "rev-2", StartedAt: started.In(time.FixedZone("X", 3600)),
		RedisHealth: "degraded: dial tcp: refused", StoreHealth: "ok"}
	beat(b, t0, time.Time{})
	beat(a, t0.Add(time.Second), time.Time{})
	aSeen, bSeen := a, b
	aSeen.LastSeen, bSeen.LastSeen = t0.Add(time.Second).UTC(), t0
	bSeen.StartedAt = started
	checkList(t, "two nodes", f.nodes(), nodeString(aSeen), nodeString(bSeen))

	a.Revision, a.InFlight, a.DryRun, a.RedisHealth = "rev-2", 0, false, ""
	beat(a, t0.Add(time.Minute), t0.Add(30*time.Second))
	aSeen = a
	aSeen.LastSeen = t0.Add(time.Minute)
	checkList(t, "a replaced, b forgotten", f.nodes(), nodeString(aSeen))

	beat(a, t0.Add(2*time.Minute), t0.Add(time.Hour)) // would forget a itself
	aSeen.LastSeen = t0.Add(2 * time.Minute)
	checkList(t, "the beating node is never forgotten", f.nodes(), nodeString(aSeen))

	if err := f.s.RemoveNode(f.ctx, nodeA); err != nil {
		t.Fatalf("RemoveNode: %v", err)
	}
	if err := f.s.RemoveNode(f.ctx, nodeA); err != nil {
		t.Fatalf("RemoveNode of an absent node: %v", err)
	}
	checkList(t, "removed", f.nodes())

	for _, bad := range []store.HeartbeatParams{
		{Node: store.Node{StartedAt: t0}, Now: t0},
		{Node: store.Node{ID: nodeA, StartedAt: t0}},
		{Node: store.Node{ID: nodeA}, Now: t0},
		{Node: store.Node{ID: nodeA, StartedAt: t0, InFlight: -1}, Now: t0},
	} {
		checkErr(t, f.s.Heartbeat(f.ctx, bad), store.ErrInvalid)
	}
	checkList(t, "after invalid heartbeats", f.nodes())
}

// testPauses: Pause inserts or replaces, Resume deletes, ListPauses shows
// the pauses in force at its Now, exact to the nanosecond.
func testPauses(t *testing.T, h Harness) {
	f := newFixture(t, h)
	list := func(now time.Time) []string {
		t.Helper()
		ps, err := f.s.ListPauses(f.ctx, store.ListPausesParams{Now: now})
		if err != nil {
			t.Fatalf("ListPauses: %v", err)
		}
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = pauseString(p)
		}
		return out
	}
	pause := func(p store.PauseParams) {
		t.Helper()
		if err := f.s.Pause(f.ctx, p); err != nil {
			t.Fatalf("Pause(%s): %v", p.ScheduleID, err)
		}
	}
	forever := store.Pause{ScheduleID: "a", Note: "launch freeze", At: t0}
	hour := store.Pause{ScheduleID: "b", At: t0.Add(time.Second), Until: t0.Add(time.Hour)}
	pause(store.PauseParams(forever))
	pause(store.PauseParams{ScheduleID: hour.ScheduleID, At: hour.At.In(time.FixedZone("Y", -7200)), Until: hour.Until})
	checkList(t, "both in force", list(t0.Add(time.Minute)), pauseString(forever), pauseString(hour))
	checkList(t, "b expired at its Until", list(t0.Add(time.Hour)), pauseString(forever))

	forever.Note, forever.At = "changed", t0.Add(2*time.Hour)
	pause(store.PauseParams(forever))
	checkList(t, "a replaced", list(t0.Add(2*time.Hour)), pauseString(forever))
	if err := f.s.Resume(f.ctx, "a"); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if err := f.s.Resume(f.ctx, "never-paused"); err != nil {
		t.Fatalf("Resume of a schedule not paused: %v", err)
	}
	checkList(t, "resumed", list(t0))

	for _, bad := range []store.PauseParams{
		{At: t0},
		{ScheduleID: "c"},
		{ScheduleID: "c", At: t0, Until: t0},
		{ScheduleID: "c", At: t0, Until: t0.Add(-time.Second)},
	} {
		checkErr(t, f.s.Pause(f.ctx, bad), store.ErrInvalid)
	}
	_, err := f.s.ListPauses(f.ctx, store.ListPausesParams{})
	checkErr(t, err, store.ErrInvalid)
	checkList(t, "after invalid pauses", list(t0))
}

func pauseString(p store.Pause) string {
	zone := func(t time.Time) string {
		if t.IsZero() {
			return "zero"
		}
		return t.Location().String()
	}
	return fmt.Sprintf("%s %q at=%d/%s until=%d/%s", p.ScheduleID, p.Note, p.At.UnixNano(), zone(p.At), unixOrZero(p.Until), zone(p.Until))
}

// testJobOrigin: a new job keeps the revision it was fired from and the
// node that recorded it, also when claimed at creation; a fire recorded
// again keeps its first origin.
func testJobOrigin(t *testing.T, h Harness) {
	f := newFixture(t, h)
	res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Node: nodeB, Now: t0, ClaimLeaseUntil: t0.Add(time.Minute),
		Jobs: []store.NewJob{
			{ScheduleID: "a", PlannedAt: t0, Revision: "rev-1"},
			{ScheduleID: "b", PlannedAt: t0.Add(time.Hour), Revision: "rev-1"},
		}})
	if err != nil || len(res) != 2 {
		t.Fatalf("CreateJobs = %+v, %v", res, err)
	}
	if res[0].Claim == nil || res[1].Claim != nil {
		t.Fatalf("claims = %+v, %+v; want the due job claimed", res[0].Claim, res[1].Claim)
	}
	for _, j := range []store.Job{res[0].Job, res[0].Claim.Job, res[1].Job, f.get(res[0].Job.ID), f.get(res[1].Job.ID)} {
		if j.Revision != "rev-1" || j.FiredBy != nodeB {
			t.Errorf("job %d: Revision %q FiredBy %q, want rev-1 and %s", j.ID, j.Revision, j.FiredBy, nodeB)
		}
	}
	again, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Node: nodeA, Now: t0.Add(time.Second),
		Jobs: []store.NewJob{{ScheduleID: "b", PlannedAt: t0.Add(time.Hour), Revision: "rev-2"}}})
	if err != nil || again[0].Created || again[0].Job.Revision != "rev-1" || again[0].Job.FiredBy != nodeB {
		t.Fatalf("the fire recorded again = %+v, %v; want the first origin", again, err)
	}
	page, err := f.s.ListJobs(f.ctx, store.ListJobsParams{ScheduleID: "a"})
	if err != nil || len(page.Jobs) != 1 || page.Jobs[0].Revision != "rev-1" || page.Jobs[0].FiredBy != nodeB {
		t.Fatalf("ListJobs = %+v, %v", page, err)
	}
}
