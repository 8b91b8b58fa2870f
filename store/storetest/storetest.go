// Package storetest is the conformance suite every store.Store passes. A
// driver's test calls Run with a Harness; the suite owns the behaviour, the
// drivers only say how to get a fresh database. Extend it whenever store
// behaviour changes.
//
// Every subtest opens its own store (its own file, memory or Postgres
// schema) and runs in parallel; time is fixed data, never the wall clock.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// Harness tells the suite how to reach a driver.
type Harness struct {
	// Open returns a new, empty, migrated store owned by tb (closed in
	// tb.Cleanup).
	Open func(tb testing.TB) store.Store
	// Exec runs raw SQL against s's database, for tests that tamper with it
	// (a schema version from the future).
	Exec func(tb testing.TB, s store.Store, sql string)
	// Reopen opens s's database again through the driver's Open, migrating
	// at open if asked, and returns Open's error. The caller closes it.
	Reopen func(tb testing.TB, s store.Store, migrate bool) (store.Store, error)
}

// Run runs the whole suite.
func Run(t *testing.T, h Harness) {
	groups := []struct {
		name string
		run  func(*testing.T, Harness)
	}{
		{"Create", testCreate},
		{"Claim", testClaim},
		{"LegalTransitions", testLegalTransitions},
		{"IllegalTransitions", testIllegalTransitions},
		{"StaleTransitions", testStaleTransitions},
		{"InvalidTransitions", testInvalidTransitions},
		{"TransitionBatch", testTransitionBatch},
		{"Leases", testLeases},
		{"Events", testEvents},
		{"ListJobs", testListJobs},
		{"LatestFires", testLatestFires},
		{"AllLatestFires", testAllLatestFires},
		{"Times", testTimes},
		{"Migrations", testMigrations},
		{"Failures", testFailures},
		{"MetricsTasks", testMetricsTasks},
		{"MetricsClaim", testMetricsClaim},
		{"MetricsComplete", testMetricsComplete},
		{"State", testState},
		{"FrozenPost", testFrozenPost},
		{"FreezePost", testFreezePost},
		{"RecordMedia", testRecordMedia},
		{"ClaimLimit", testClaimLimit},
		{"SendTimes", testSendTimes},
		{"ClaimUnknown", testClaimUnknown},
		{"RenderedPost", testRenderedPost},
		{"Nodes", testNodes},
		{"Pauses", testPauses},
		{"JobOrigin", testJobOrigin},
		{"Prune", testPrune},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, h)
		})
	}
}

// t0 is the suite's "now": nanoseconds set so truncation anywhere shows.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)

const (
	nodeA = "node-a"
	nodeB = "node-b"
)

// fixture is one test's store and helpers that fail the test on error.
type fixture struct {
	t   testing.TB
	s   store.Store
	ctx context.Context
	seq int // makes planned instants unique per fixture
}

func newFixture(t testing.TB, h Harness) *fixture {
	return &fixture{t: t, s: h.Open(t), ctx: context.Background()}
}

// create records one planned job for schedule, due at t0.
func (f *fixture) create(schedule string) store.Job {
	f.t.Helper()
	f.seq++
	return f.createJob(store.NewJob{ScheduleID: schedule, PlannedAt: t0.Add(time.Duration(f.seq) * time.Second), DueAt: t0}).Job
}

func (f *fixture) createJob(nj store.NewJob) store.CreateResult {
	f.t.Helper()
	res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Jobs: []store.NewJob{nj}, Node: nodeA, Now: t0})
	if err != nil {
		f.t.Fatalf("CreateJobs: %v", err)
	}
	if len(res) != 1 {
		f.t.Fatalf("CreateJobs returned %d results, want 1", len(res))
	}
	return res[0]
}

// claim claims job id for node and fails unless it got it.
func (f *fixture) claim(id int64, node string, now time.Time) store.Job {
	f.t.Helper()
	ch, err := f.s.ClaimJobs(f.ctx, store.ClaimJobsParams{IDs: []int64{id}, Node: node, Now: now, LeaseUntil: now.Add(time.Minute)})
	if err != nil {
		f.t.Fatalf("ClaimJobs(%d): %v", id, err)
	}
	if len(ch) != 1 {
		f.t.Fatalf("ClaimJobs(%d) claimed %d jobs, want 1", id, len(ch))
	}
	return ch[0].Job
}

// transition applies one transition and returns its result; it fails the test
// only on a batch-level error.
func (f *fixture) transition(p store.TransitionParams) store.TransitionResult {
	f.t.Helper()
	res, err := f.s.Transition(f.ctx, p)
	if err != nil {
		f.t.Fatalf("Transition: %v", err)
	}
	if len(res) != 1 {
		f.t.Fatalf("Transition returned %d results, want 1", len(res))
	}
	return res[0]
}

// mustTransition applies one transition that must succeed.
func (f *fixture) mustTransition(p store.TransitionParams) store.Job {
	f.t.Helper()
	r := f.transition(p)
	if r.Err != nil {
		f.t.Fatalf("Transition %s -> %s: %v", p.From, p.To, r.Err)
	}
	return r.Job
}

func (f *fixture) get(id int64) store.Job {
	f.t.Helper()
	j, err := f.s.GetJob(f.ctx, id)
	if err != nil {
		f.t.Fatalf("GetJob(%d): %v", id, err)
	}
	return j
}

func (f *fixture) events(id int64) []store.Event {
	f.t.Helper()
	ev, err := f.s.JobEvents(f.ctx, id)
	if err != nil {
		f.t.Fatalf("JobEvents(%d): %v", id, err)
	}
	return ev
}

// inState creates a job and drives it to status along legal edges, as nodeA.
func (f *fixture) inState(status store.Status) store.Job {
	f.t.Helper()
	j := f.create("sched-" + string(status))
	out := func(to store.Status, mod func(*store.TransitionParams)) store.Job {
		p := store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: to, Node: nodeA, Attempt: j.Attempt,
			Now: t0.Add(time.Second), RetryAt: t0.Add(time.Minute)}
		if mod != nil {
			mod(&p)
		}
		return f.mustTransition(p)
	}
	switch status {
	case store.StatusPlanned:
	case store.StatusRunning:
		j = f.claim(j.ID, nodeA, t0)
	case store.StatusSucceeded, store.StatusRetrying, store.StatusDead, store.StatusUnknown:
		j = f.claim(j.ID, nodeA, t0)
		j = out(status, nil)
	case store.StatusCancelled:
		j = f.mustTransition(store.TransitionParams{JobID: j.ID, From: store.StatusPlanned, To: status, Node: nodeA, Now: t0})
	case store.StatusMissed:
		j = f.mustTransition(store.TransitionParams{JobID: j.ID, From: store.StatusPlanned, To: status, Node: nodeA, Now: t0})
	default:
		f.t.Fatalf("inState: unknown status %q", status)
	}
	if j.Status != status {
		f.t.Fatalf("inState(%s): job is %s", status, j.Status)
	}
	return j
}

// checkErr fails unless err matches want (nil for no error).
func checkErr(t testing.TB, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("error = %v, want one matching %v", err, want)
	}
}

// sameJob compares jobs field by field, times by instant (a post's too).
func sameJob(a, b store.Job) error {
	norm := func(j store.Job) string {
		return fmt.Sprintf("%d %s %d %d %s %d %d %s %s %s %d %q %q %q %d %d %d %s %d %d %q %q", j.ID, j.ScheduleID, j.PlannedAt.UnixNano(),
			j.DueAt.UnixNano(), j.Status, j.Attempt, j.Run, j.Trigger, j.CorrelationID, j.Node, unixOrZero(j.LeaseUntil),
			j.PostIDs, j.LastError, j.DeadReason, j.CreatedAt.UnixNano(), j.UpdatedAt.UnixNano(), j.Failures,
			postString(j.Post), unixOrZero(j.SendFloor), unixOrZero(j.FirstSentAt), j.Revision, j.FiredBy)
	}
	if norm(a) != norm(b) {
		return fmt.Errorf("jobs differ:\n %s\n %s", norm(a), norm(b))
	}
	return nil
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// jobsOf lists a schedule's jobs.
func (f *fixture) jobsOf(schedule string) []store.Job {
	f.t.Helper()
	page, err := f.s.ListJobs(f.ctx, store.ListJobsParams{ScheduleID: schedule, Limit: 1000})
	if err != nil {
		f.t.Fatalf("ListJobs(%s): %v", schedule, err)
	}
	return page.Jobs
}
