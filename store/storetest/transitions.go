package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// testLegalTransitions walks every edge of the state machine and checks the
// job and the event each one leaves.
func testLegalTransitions(t *testing.T, h Harness) {
	at := t0.Add(10 * time.Second)
	retryAt := t0.Add(5 * time.Minute)
	type edge struct{ from, to store.Status }
	cases := []struct {
		from, to store.Status
		// params fills in what the edge needs beyond JobID/From/To/Now.
		params func(j store.Job) store.TransitionParams
		check  func(t *testing.T, before, after store.Job)
	}{
		{store.StatusRunning, store.StatusSucceeded,
			func(j store.Job) store.TransitionParams {
				return store.TransitionParams{Node: nodeA, Attempt: j.Attempt, AppendPostIDs: []string{"p1", "p2"}}
			},
			func(t *testing.T, before, after store.Job) {
				if !slices.Equal(after.PostIDs, []string{"p1", "p2"}) {
					t.Errorf("PostIDs = %q, want [p1 p2]", after.PostIDs)
				}
				if after.Node != nodeA {
					t.Errorf("Node = %q, want the last owner %q", after.Node, nodeA)
				}
			}},
		{store.StatusRunning, store.StatusRetrying,
			func(j store.Job) store.TransitionParams {
				return store.TransitionParams{Node: nodeA, Attempt: j.Attempt, RetryAt: retryAt, LastError: "503 from X"}
			},
			func(t *testing.T, before, after store.Job) {
				if !after.DueAt.Equal(retryAt) || after.LastError != "503 from X" {
					t.Errorf("DueAt, LastError = %v, %q; want %v, %q", after.DueAt, after.LastError, retryAt, "503 from X")
				}
			}},
		{store.StatusRunning, store.StatusDead,
			func(j store.Job) store.TransitionParams {
				return store.TransitionParams{Node: nodeA, Attempt: j.Attempt, DeadReason: "duplicate content", LastError: "403"}
			},
			func(t *testing.T, before, after store.Job) {
				if after.DeadReason != "duplicate content" || after.LastError != "403" {
					t.Errorf("DeadReason, LastError = %q, %q", after.DeadReason, after.LastError)
				}
			}},
		{store.StatusRunning, store.StatusUnknown,
			func(j store.Job) store.TransitionParams {
				return store.TransitionParams{Node: nodeA, Attempt: j.Attempt, LastError: "connection reset after write"}
			}, nil},
		{store.StatusPlanned, store.StatusMissed,
			func(j store.Job) store.TransitionParams { return store.TransitionParams{Node: nodeB} }, nil},
		{store.StatusPlanned, store.StatusCancelled,
			func(j store.Job) store.TransitionParams { return store.TransitionParams{Node: "ctl"} }, nil},
		{store.StatusRetrying, store.StatusCancelled,
			func(j store.Job) store.TransitionParams { return store.TransitionParams{Node: "ctl"} }, nil},
		{store.StatusUnknown, store.StatusSucceeded,
			func(j store.Job) store.TransitionParams {
				return store.TransitionParams{Node: nodeB, Attempt: j.Attempt, AppendPostIDs: []string{"found"}}
			},
			func(t *testing.T, before, after store.Job) {
				if !slices.Equal(after.PostIDs, []string{"found"}) {
					t.Errorf("PostIDs = %q", after.PostIDs)
				}
			}},
		{store.StatusUnknown, store.StatusRetrying,
			func(j store.Job) store.TransitionParams {
				return store.TransitionParams{Node: nodeB, RetryAt: retryAt}
			},
			func(t *testing.T, before, after store.Job) {
				if !after.DueAt.Equal(retryAt) {
					t.Errorf("DueAt = %v, want %v", after.DueAt, retryAt)
				}
			}},
		{store.StatusUnknown, store.StatusDead,
			func(j store.Job) store.TransitionParams {
				return store.TransitionParams{Node: nodeB, DeadReason: "past deadline"}
			}, nil},
		{store.StatusDead, store.StatusPlanned,
			func(j store.Job) store.TransitionParams { return store.TransitionParams{Node: "ctl", RetryAt: retryAt} },
			func(t *testing.T, before, after store.Job) {
				if !after.DueAt.Equal(retryAt) || after.DeadReason != "" || after.Attempt != before.Attempt {
					t.Errorf("DueAt, DeadReason, Attempt = %v, %q, %d; want %v, \"\", %d",
						after.DueAt, after.DeadReason, after.Attempt, retryAt, before.Attempt)
				}
			}},
		{store.StatusDead, store.StatusCancelled,
			func(j store.Job) store.TransitionParams { return store.TransitionParams{Node: "ctl"} }, nil},
	}

	// Every legal edge is covered: here, or (to running) by claims below.
	covered := map[edge]bool{{store.StatusPlanned, store.StatusRunning}: true, {store.StatusRetrying, store.StatusRunning}: true}
	for _, c := range cases {
		covered[edge{c.from, c.to}] = true
	}
	for _, from := range store.Statuses() {
		for _, to := range store.Statuses() {
			if store.LegalTransition(from, to) && !covered[edge{from, to}] {
				t.Errorf("legal edge %s -> %s is not tested", from, to)
			}
		}
	}

	for _, c := range cases {
		t.Run(fmt.Sprintf("%s_to_%s", c.from, c.to), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, h)
			before := f.inState(c.from)
			eventsBefore := f.events(before.ID)
			p := c.params(before)
			p.JobID, p.From, p.To, p.Now, p.Detail = before.ID, c.from, c.to, at, "because "+string(c.to)
			r := f.transition(p)
			if r.Err != nil {
				t.Fatalf("Transition: %v", r.Err)
			}
			after := r.Job
			if after.Status != c.to || !after.UpdatedAt.Equal(at) || !after.LeaseUntil.IsZero() {
				t.Errorf("Status, UpdatedAt, LeaseUntil = %s, %v, %v; want %s, %v, zero", after.Status, after.UpdatedAt, after.LeaseUntil, c.to, at)
			}
			if after.ID != before.ID || after.Run != before.Run || !after.PlannedAt.Equal(before.PlannedAt) {
				t.Errorf("identity changed: %+v -> %+v", before, after)
			}
			if c.check != nil {
				c.check(t, before, after)
			}
			if err := sameJob(after, f.get(before.ID)); err != nil {
				t.Errorf("returned job differs from stored one: %v", err)
			}
			want := store.Event{ID: r.Event.ID, JobID: before.ID, At: at, From: c.from, To: c.to, Node: p.Node,
				Attempt: after.Attempt, Detail: p.Detail}
			checkEvent(t, r.Event, want)
			events := f.events(before.ID)
			if len(events) != len(eventsBefore)+1 {
				t.Fatalf("%d events after the transition, want %d", len(events), len(eventsBefore)+1)
			}
			checkEvent(t, events[len(events)-1], want)
		})
	}

	for _, from := range []store.Status{store.StatusPlanned, store.StatusRetrying} {
		t.Run(fmt.Sprintf("%s_to_running", from), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, h)
			before := f.inState(from)
			now := before.DueAt.Add(time.Second)
			ch, err := f.s.ClaimJobs(f.ctx, store.ClaimJobsParams{IDs: []int64{before.ID}, Node: nodeB, Now: now,
				LeaseUntil: now.Add(time.Minute), Detail: "claimed"})
			if err != nil || len(ch) != 1 {
				t.Fatalf("ClaimJobs = %d changes, %v; want 1", len(ch), err)
			}
			j := ch[0].Job
			if j.Status != store.StatusRunning || j.Attempt != before.Attempt+1 || j.Node != nodeB ||
				!j.LeaseUntil.Equal(now.Add(time.Minute)) || !j.UpdatedAt.Equal(now) {
				t.Errorf("claimed job = %+v", j)
			}
			checkEvent(t, ch[0].Event, store.Event{ID: ch[0].Event.ID, JobID: j.ID, At: now, From: from, To: store.StatusRunning,
				Node: nodeB, Attempt: j.Attempt, Detail: "claimed"})
			if err := sameJob(j, f.get(j.ID)); err != nil {
				t.Error(err)
			}
		})
	}
}

func checkEvent(t testing.TB, got, want store.Event) {
	t.Helper()
	if got.ID != want.ID || got.JobID != want.JobID || !got.At.Equal(want.At) || got.At.Location() != time.UTC ||
		got.From != want.From || got.To != want.To || got.Node != want.Node || got.Attempt != want.Attempt || got.Detail != want.Detail {
		t.Errorf("event = %+v\n   want %+v", got, want)
	}
}

// testIllegalTransitions tries every edge not in the state machine from a job
// really in From: each fails with ErrIllegalTransition and changes nothing.
func testIllegalTransitions(t *testing.T, h Harness) {
	f := newFixture(t, h)
	jobs := make(map[store.Status]store.Job)
	for _, s := range store.Statuses() {
		jobs[s] = f.inState(s)
	}
	for _, from := range store.Statuses() {
		for _, to := range store.Statuses() {
			if store.LegalTransition(from, to) {
				continue
			}
			t.Run(fmt.Sprintf("%s_to_%s", from, to), func(t *testing.T) {
				before := f.get(jobs[from].ID)
				events := f.events(before.ID)
				r := f.transition(store.TransitionParams{JobID: before.ID, From: from, To: to, Node: before.Node,
					Attempt: before.Attempt, Now: t0.Add(time.Hour), RetryAt: t0.Add(time.Hour), DeadReason: "x", LastError: "x",
					AppendPostIDs: []string{"x"}})
				var te *store.TransitionError
				if !errors.As(r.Err, &te) || !errors.Is(r.Err, store.ErrIllegalTransition) || errors.Is(r.Err, store.ErrConflict) {
					t.Fatalf("error = %v, want a *TransitionError matching ErrIllegalTransition", r.Err)
				}
				if te.JobID != before.ID || te.From != from || te.To != to {
					t.Errorf("TransitionError = %+v", te)
				}
				if err := sameJob(before, f.get(before.ID)); err != nil {
					t.Errorf("job changed: %v", err)
				}
				if n := len(f.events(before.ID)); n != len(events) {
					t.Errorf("%d events, want %d", n, len(events))
				}
			})
		}
	}
}

// testStaleTransitions: legal edges from a state the job is no longer in, or
// under a lease the caller no longer holds, fail with ErrConflict (or
// ErrNotFound) and change nothing.
func testStaleTransitions(t *testing.T, h Harness) {
	cases := []struct {
		name string
		// setup returns the job and a transition that must fail.
		setup      func(f *fixture) (store.Job, store.TransitionParams)
		want       error
		wantActual store.Status
	}{
		{"wrong from", func(f *fixture) (store.Job, store.TransitionParams) {
			j := f.inState(store.StatusPlanned)
			return j, store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusSucceeded, Node: nodeA, Attempt: 1}
		}, store.ErrConflict, store.StatusPlanned},
		{"already done", func(f *fixture) (store.Job, store.TransitionParams) {
			j := f.inState(store.StatusSucceeded)
			return j, store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusDead, Node: nodeA, Attempt: 1}
		}, store.ErrConflict, store.StatusSucceeded},
		{"wrong node", func(f *fixture) (store.Job, store.TransitionParams) {
			j := f.inState(store.StatusRunning)
			return j, store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusSucceeded, Node: nodeB, Attempt: j.Attempt}
		}, store.ErrConflict, store.StatusRunning},
		{"wrong attempt", func(f *fixture) (store.Job, store.TransitionParams) {
			j := f.inState(store.StatusRunning)
			return j, store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusSucceeded, Node: nodeA, Attempt: j.Attempt + 1}
		}, store.ErrConflict, store.StatusRunning},
		{"wrong attempt out of unknown", func(f *fixture) (store.Job, store.TransitionParams) {
			j := f.inState(store.StatusUnknown)
			return j, store.TransitionParams{JobID: j.ID, From: store.StatusUnknown, To: store.StatusDead, Node: nodeB, Attempt: j.Attempt + 1}
		}, store.ErrConflict, store.StatusUnknown},
		{"lease taken over", func(f *fixture) (store.Job, store.TransitionParams) {
			// nodeA's attempt 1 fails and is retried by nodeB as attempt 2;
			// nodeA's late success must not overwrite it.
			j := f.inState(store.StatusRetrying)
			j = f.claim(j.ID, nodeB, j.DueAt)
			return j, store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusSucceeded, Node: nodeA, Attempt: 1}
		}, store.ErrConflict, store.StatusRunning},
		{"lease expired", func(f *fixture) (store.Job, store.TransitionParams) {
			j := f.inState(store.StatusRunning)
			if _, err := f.s.ExpireLeases(f.ctx, store.ExpireLeasesParams{Node: nodeB, Now: j.LeaseUntil.Add(time.Nanosecond)}); err != nil {
				f.t.Fatal(err)
			}
			return f.get(j.ID), store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusSucceeded, Node: nodeA, Attempt: j.Attempt}
		}, store.ErrConflict, store.StatusUnknown},
		{"no such job", func(f *fixture) (store.Job, store.TransitionParams) {
			return store.Job{}, store.TransitionParams{JobID: 1 << 40, From: store.StatusPlanned, To: store.StatusCancelled, Node: nodeA}
		}, store.ErrNotFound, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, h)
			before, p := c.setup(f)
			p.Now, p.Detail = t0.Add(time.Hour), "stale"
			var events []store.Event
			if before.ID != 0 {
				events = f.events(before.ID)
			}
			r := f.transition(p)
			var te *store.TransitionError
			if !errors.As(r.Err, &te) || !errors.Is(r.Err, c.want) {
				t.Fatalf("error = %v, want a *TransitionError matching %v", r.Err, c.want)
			}
			if errors.Is(r.Err, store.ErrIllegalTransition) {
				t.Errorf("a stale transition matches ErrIllegalTransition: %v", r.Err)
			}
			if te.Actual != c.wantActual {
				t.Errorf("Actual = %q, want %q (%v)", te.Actual, c.wantActual, r.Err)
			}
			if before.ID == 0 {
				return
			}
			if te.ActualNode != before.Node || te.ActualAttempt != before.Attempt {
				t.Errorf("ActualNode, ActualAttempt = %q, %d; want %q, %d", te.ActualNode, te.ActualAttempt, before.Node, before.Attempt)
			}
			if err := sameJob(before, f.get(before.ID)); err != nil {
				t.Errorf("job changed: %v", err)
			}
			if n := len(f.events(before.ID)); n != len(events) {
				t.Errorf("%d events, want %d", n, len(events))
			}
		})
	}
}

// testInvalidTransitions: malformed parameters fail with ErrInvalid before
// touching the job.
func testInvalidTransitions(t *testing.T, h Harness) {
	f := newFixture(t, h)
	running := f.inState(store.StatusRunning)
	planned := f.inState(store.StatusPlanned)
	ok := func(p store.TransitionParams) store.TransitionParams {
		if p.Now.IsZero() {
			p.Now = t0
		}
		return p
	}
	cases := []struct {
		name string
		p    store.TransitionParams
	}{
		{"no job id", ok(store.TransitionParams{From: store.StatusPlanned, To: store.StatusCancelled})},
		{"no now", store.TransitionParams{JobID: planned.ID, From: store.StatusPlanned, To: store.StatusCancelled}},
		{"unknown status", ok(store.TransitionParams{JobID: planned.ID, From: "paused", To: store.StatusCancelled})},
		{"empty from", ok(store.TransitionParams{JobID: planned.ID, To: store.StatusPlanned})},
		{"claim through Transition", ok(store.TransitionParams{JobID: planned.ID, From: store.StatusPlanned, To: store.StatusRunning, Node: nodeA})},
		{"retrying without RetryAt", ok(store.TransitionParams{JobID: running.ID, From: store.StatusRunning, To: store.StatusRetrying, Node: nodeA, Attempt: 1})},
		{"out of running without node", ok(store.TransitionParams{JobID: running.ID, From: store.StatusRunning, To: store.StatusSucceeded, Attempt: 1})},
		{"out of running without attempt", ok(store.TransitionParams{JobID: running.ID, From: store.StatusRunning, To: store.StatusSucceeded, Node: nodeA})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.transition(c.p)
			checkErr(t, r.Err, store.ErrInvalid)
		})
	}
	for _, j := range []store.Job{running, planned} {
		if err := sameJob(j, f.get(j.ID)); err != nil {
			t.Errorf("job changed: %v", err)
		}
	}
}

// testTransitionBatch: items of a batch succeed or fail alone, in order.
func testTransitionBatch(t *testing.T, h Harness) {
	f := newFixture(t, h)
	a := f.inState(store.StatusRunning)
	b := f.inState(store.StatusPlanned)
	c := f.inState(store.StatusSucceeded)
	now := t0.Add(time.Minute)
	res, err := f.s.Transition(f.ctx,
		store.TransitionParams{JobID: a.ID, From: store.StatusRunning, To: store.StatusRetrying, Node: nodeA, Attempt: a.Attempt, Now: now, RetryAt: now},
		store.TransitionParams{JobID: c.ID, From: store.StatusPlanned, To: store.StatusCancelled, Node: nodeA, Now: now},  // stale
		store.TransitionParams{JobID: a.ID, From: store.StatusRetrying, To: store.StatusCancelled, Node: "ctl", Now: now}, // sees the first
		store.TransitionParams{JobID: b.ID, From: store.StatusPlanned, To: store.StatusSucceeded, Node: nodeA, Now: now},  // illegal
		store.TransitionParams{JobID: b.ID, From: store.StatusPlanned, To: store.StatusMissed, Node: nodeA, Now: now},
	)
	if err != nil {
		t.Fatal(err)
	}
	wantErr := []error{nil, store.ErrConflict, nil, store.ErrIllegalTransition, nil}
	if len(res) != len(wantErr) {
		t.Fatalf("%d results, want %d", len(res), len(wantErr))
	}
	for i, w := range wantErr {
		checkErr(t, res[i].Err, w)
	}
	if got := f.get(a.ID).Status; got != store.StatusCancelled {
		t.Errorf("job a is %s, want cancelled", got)
	}
	if got := f.get(b.ID).Status; got != store.StatusMissed {
		t.Errorf("job b is %s, want missed", got)
	}
	if res[0].Event.ID >= res[2].Event.ID || res[2].Event.ID >= res[4].Event.ID {
		t.Errorf("event IDs not in batch order: %d, %d, %d", res[0].Event.ID, res[2].Event.ID, res[4].Event.ID)
	}

	// Many nodes finishing one job at once: exactly one wins.
	j := f.inState(store.StatusUnknown)
	const n = 16
	errs := make(chan error, n)
	for i := range n {
		go func() {
			res, err := f.s.Transition(f.ctx, store.TransitionParams{JobID: j.ID, From: store.StatusUnknown,
				To: store.StatusSucceeded, Node: fmt.Sprintf("n%d", i), Now: now})
			if err == nil {
				err = res[0].Err
			}
			errs <- err
		}()
	}
	wins := 0
	for range n {
		if err := <-errs; err == nil {
			wins++
		} else if !errors.Is(err, store.ErrConflict) {
			t.Errorf("concurrent transition: %v", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d concurrent transitions won, want 1", wins)
	}
	if got := len(f.events(j.ID)); got != 4 { // create, claim, ->unknown, ->succeeded
		t.Errorf("%d events, want 4", got)
	}
}
