package actors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/store"
)

// scripted is a platform for the actors' tests: each Publish asks the
// post's guard as a real client does before a request, then waits for the
// test to let it go (when hold is set) and answers with the next scripted
// error (nil: published). Find answers from found.
type scripted struct {
	mu       sync.Mutex
	hold     chan struct{} // when set, each publish waits to receive from it
	errs     []error       // answers of successive publishes; nil once used up
	sent     []string      // the first text of every publish that sent
	fenced   int
	finds    [][]platform.Post
	found    func(platform.Post) []string
	inFlight int
	started  chan int64
}

func (s *scripted) Publish(ctx context.Context, p platform.Post, hooks platform.Hooks) (platform.Result, error) {
	s.mu.Lock()
	s.inFlight++
	hold, started := s.hold, s.started
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.inFlight--; s.mu.Unlock() }()
	if started != nil {
		started <- p.JobID
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return platform.Result{IDs: p.Published}, fmt.Errorf("%w: %w", platform.ErrTransient, ctx.Err())
		}
	}
	res := platform.Result{IDs: slices.Clone(p.Published)}
	if p.Guard != nil {
		if err := p.Guard("create_post", time.Second); err != nil {
			s.mu.Lock()
			s.fenced++
			s.mu.Unlock()
			return res, err
		}
	}
	s.mu.Lock()
	var err error
	if len(s.errs) > 0 {
		err, s.errs = s.errs[0], s.errs[1:]
	}
	s.sent = append(s.sent, p.Texts[0])
	s.mu.Unlock()
	res.SentAt = time.Now()
	if err != nil {
		return res, err
	}
	for i := len(res.IDs); i < len(p.Texts); i++ {
		res.IDs = append(res.IDs, fmt.Sprintf("p%d-%d", p.JobID, i))
	}
	return res, nil
}

func (s *scripted) Find(_ context.Context, _ string, posts []platform.Post) ([][]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finds = append(s.finds, posts)
	out := make([][]string, len(posts))
	for i, p := range posts {
		if s.found != nil {
			out[i] = s.found(p)
		}
	}
	return out, nil
}

func (s *scripted) Settled(string, time.Time, time.Time) bool { return true }

func (s *scripted) snapshot() (sent []string, fenced int, finds [][]platform.Post, inFlight int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent), s.fenced, slices.Clone(s.finds), s.inFlight
}

// burst is eight schedules due at the same instant, t0+1m.
func burst() string {
	var b strings.Builder
	b.WriteString("accounts:\n  brand: {platform: x}\nschedules:\n")
	for i := range 8 {
		fmt.Fprintf(&b, "  - {id: s%d, account: brand, at: %q, post: {text: \"post %d\"}}\n", i, t0.Add(time.Minute).Format(time.RFC3339), i)
	}
	return b.String()
}

func (h *harness) count(status store.Status) int {
	h.t.Helper()
	page, err := h.store.ListJobs(context.Background(), store.ListJobsParams{Statuses: []store.Status{status}, Limit: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	return len(page.Jobs)
}

// TestClaimsOnlyWhatPublishersCanStart: with one publisher and a platform
// that takes 12 s a post, eight fires due at once after a start (the pace
// not yet known) are claimed together; once the first publish shows the
// pace, the ones that waited too long are given back, and from then on
// they are claimed one at a time, as the publisher frees up: one running,
// the others waiting unclaimed.
func TestClaimsOnlyWhatPublishersCanStart(t *testing.T) {
	h := newHarness(t)
	pf := &scripted{hold: make(chan struct{})}
	h.platform = pf
	h.tune = func(o *Options) { o.Publishers = 1 }
	rt := h.runtime("node-a")
	t.Cleanup(func() { close(pf.hold) })
	if _, err := rt.Apply(context.Background(), h.load(burst()), nil, "test"); err != nil {
		t.Fatal(err)
	}
	h.advanceTo(t0.Add(time.Minute))
	// The whole burst in the publishers' queue before X's time passes: a
	// job queued after the clock moved would not have waited.
	h.eventually("the burst queued", func() bool { return len(rt.pool.jobs) == 7 })
	for done := 0; done < 8; done++ {
		h.eventually(fmt.Sprintf("publish %d under way", done+1), func() bool {
			_, _, _, n := pf.snapshot()
			return n == 1
		})
		if done > 0 {
			// The first burst was claimed whole (no pace yet), and what of
			// it waited past maxQueueWait is being given back while the
			// next publish starts: the counts settle, or the node claimed
			// more than its one publisher can start.
			h.eventually(fmt.Sprintf("after %d publishes: 1 running, %d waiting unclaimed", done, 7-done), func() bool {
				r, w := h.count(store.StatusRunning), h.count(store.StatusRetrying)+h.count(store.StatusPlanned)
				return r == 1 && w == 7-done
			})
		}
		h.clock.Advance(12 * time.Second) // X takes its time
		// A claim the clock's move started (the claimer's tick) ends
		// before the publish does: one that began while the pace was
		// unknown could otherwise take the jobs given back next.
		want := 1 // the job publishing
		if done == 0 {
			want = 8 // and the seven queued
		}
		h.eventually("no claim in flight", func() bool {
			rt.pool.mu.Lock()
			defer rt.pool.mu.Unlock()
			return rt.pool.outstanding == want
		})
		pf.hold <- struct{}{}
		h.eventually("the outcome recorded", func() bool { return h.count(store.StatusSucceeded) == done+1 })
	}
	if sent, fenced, _, _ := pf.snapshot(); len(sent) != 8 || fenced != 0 {
		t.Errorf("sent %d, fenced %d; want 8 sent", len(sent), fenced)
	}
}

// TestLeaseRenewedWhilePublishing: a publish that takes three leases'
// time keeps its lease (no other node could take the job over), and sends.
func TestLeaseRenewedWhilePublishing(t *testing.T) {
	h := newHarness(t)
	pf := &scripted{hold: make(chan struct{})}
	h.platform = pf
	h.tune = func(o *Options) { o.Lease = 20 * time.Second }
	rt := h.runtime("node-a")
	t.Cleanup(func() { close(pf.hold) })
	if _, err := rt.Apply(context.Background(), h.load(twoSchedules), nil, "test"); err != nil {
		t.Fatal(err)
	}
	h.advanceTo(t0.Add(time.Minute))
	h.eventually("publishing", func() bool { _, _, _, n := pf.snapshot(); return n == 1 })
	var job store.Job
	for range 12 { // 60 s in steps of the renewal period
		h.clock.Advance(5 * time.Second)
		h.eventually("renewed", func() bool {
			job = h.jobs("every-minute")[0]
			return !job.LeaseUntil.Before(h.clock.Now().Add(15 * time.Second))
		})
	}
	if job.Status != store.StatusRunning {
		t.Fatalf("job %s after 60 s of publishing, want running", job.Status)
	}
	pf.hold <- struct{}{}
	h.eventually("published", func() bool { return h.jobs("every-minute")[0].Status == store.StatusSucceeded })
	if sent, fenced, _, _ := pf.snapshot(); len(sent) != 1 || fenced != 0 {
		t.Errorf("sent %v, fenced %d; want one send", sent, fenced)
	}
}

// failingRenewals is a real store whose RenewLeases fails, as when this
// node is cut off from the database: a fault injected in front of the
// store, not a model of it.
type failingRenewals struct{ store.Store }

func (failingRenewals) RenewLeases(context.Context, store.RenewLeasesParams) ([]error, error) {
	return nil, errors.New("injected: the database is unreachable")
}

// TestNothingSentOnceTheLeaseMayHaveRunOut: a node that cannot renew sends
// nothing for a job whose lease might end before the request, whatever the
// platform would do, and gives the job back without counting a failure.
func TestNothingSentOnceTheLeaseMayHaveRunOut(t *testing.T) {
	h := newHarness(t)
	real := h.store
	h.store = failingRenewals{real}
	pf := &scripted{hold: make(chan struct{})}
	h.platform = pf
	h.tune = func(o *Options) { o.Lease = 20 * time.Second }
	rt := h.runtime("node-a")
	t.Cleanup(func() { close(pf.hold) })
	h.store = real
	if _, err := rt.Apply(context.Background(), h.load(twoSchedules), nil, "test"); err != nil {
		t.Fatal(err)
	}
	h.advanceTo(t0.Add(time.Minute))
	h.eventually("publishing", func() bool { _, _, _, n := pf.snapshot(); return n == 1 })
	// 20 s lease, 5 s margin, 1 s request: nothing may start after 14 s.
	h.clock.Advance(15 * time.Second)
	pf.hold <- struct{}{}
	h.eventually("given back", func() bool {
		j := h.jobs("every-minute")
		if len(j) == 0 {
			return false
		}
		events, _ := h.store.JobEvents(context.Background(), j[0].ID)
		for _, e := range events {
			if e.From == store.StatusRunning && e.To == store.StatusRetrying && e.Attempt == 1 {
				return true
			}
		}
		return false
	})
	sent, fenced, _, _ := pf.snapshot()
	if len(sent) != 0 || fenced != 1 {
		t.Fatalf("sent %v, fenced %d; want nothing sent", sent, fenced)
	}
	if j := h.jobs("every-minute")[0]; j.Failures != 0 || !j.FirstSentAt.IsZero() {
		t.Errorf("given-back job: failures %d, first sent %v; want no failure and no send", j.Failures, j.FirstSentAt)
	}
}

// TestAJobKeepsItsFrozenPostThroughAnEdit: the fire is recorded with the
// text of its time; the answer is lost; the YAML is edited; the retry and
// the reconciliation speak of the text frozen at the fire, never the new
// one.
func TestAJobKeepsItsFrozenPostThroughAnEdit(t *testing.T) {
	h := newHarness(t)
	pf := &scripted{errs: []error{fmt.Errorf("%w: connection dropped after the request was written", platform.ErrAmbiguous)}}
	h.platform = pf
	rt := h.runtime("node-a")
	plan := func(text string) string {
		return fmt.Sprintf("accounts:\n  brand: {platform: x}\nschedules:\n  - {id: launch, account: brand, at: %q, post: {text: %q}}\n",
			t0.Add(time.Minute).Format(time.RFC3339), text)
	}
	if _, err := rt.Apply(context.Background(), h.load(plan("Launch announcement v1")), nil, "test"); err != nil {
		t.Fatal(err)
	}
	h.advanceTo(t0.Add(time.Minute))
	h.eventually("the lost answer", func() bool {
		j := h.jobs("launch")
		return len(j) == 1 && j[0].Status == store.StatusUnknown
	})
	if _, err := rt.Apply(context.Background(), h.load(plan("Launch announcement v2 (typo fixed)")), nil, "test"); err != nil {
		t.Fatal(err)
	}
	job := h.jobs("launch")[0]
	if job.Post == nil || job.Post.Texts[0] != "Launch announcement v1" || job.Post.Account != "brand" {
		t.Fatalf("frozen post %+v", job.Post)
	}
	for i := 0; i < 40 && h.jobs("launch")[0].Status != store.StatusSucceeded; i++ {
		h.clock.Advance(time.Second)
		time.Sleep(10 * time.Millisecond)
	}
	h.eventually("published", func() bool { return h.jobs("launch")[0].Status == store.StatusSucceeded })
	sent, _, finds, _ := pf.snapshot()
	for _, s := range sent {
		if s != "Launch announcement v1" {
			t.Errorf("sent %q, want only the frozen text", s)
		}
	}
	if len(finds) == 0 || finds[0][0].Texts[0] != "Launch announcement v1" {
		t.Errorf("reconciliation looked for %+v, want the frozen text", finds)
	}
}

// TestReconciliationReadsOnceForAnAccount: three unknown jobs of one
// account are reconciled with one look at the platform.
func TestReconciliationReadsOnceForAnAccount(t *testing.T) {
	h := newHarness(t)
	pf := &scripted{found: func(p platform.Post) []string { return []string{fmt.Sprintf("found-%d", p.JobID)} }}
	h.platform = pf
	ctx := context.Background()
	var ids []int64
	for i := range 3 {
		planned := t0.Add(-time.Duration(i+1) * time.Minute)
		res, err := h.store.CreateJobs(ctx, store.CreateJobsParams{Now: t0, Node: "gone", ClaimLeaseUntil: t0.Add(time.Second),
			Jobs: []store.NewJob{{ScheduleID: "hourly", PlannedAt: planned, DueAt: t0, Post: &store.FrozenPost{Account: "brand", Texts: []string{fmt.Sprint("text ", i)}}}}})
		if err != nil || res[0].Claim == nil {
			t.Fatalf("%+v %v", res, err)
		}
		ids = append(ids, res[0].Job.ID)
	}
	h.clock.Set(t0.Add(2 * time.Second)) // the other node's leases ran out
	rt := h.runtime("node-a")
	if _, err := rt.Apply(ctx, h.load(twoSchedules), nil, "test"); err != nil {
		t.Fatal(err)
	}
	allDone := func() bool {
		for _, id := range ids {
			if !h.done(id) {
				return false
			}
		}
		return true
	}
	for i := 0; i < 20 && !allDone(); i++ {
		h.clock.Advance(time.Second)
		time.Sleep(20 * time.Millisecond)
	}
	h.eventually("reconciled", allDone)
	_, _, finds, _ := pf.snapshot()
	if len(finds) != 1 || len(finds[0]) != 3 {
		t.Errorf("%d looks at the platform (%v), want one for the three jobs", len(finds), finds)
	}
	for _, id := range ids {
		j, _ := h.store.GetJob(ctx, id)
		if len(j.PostIDs) != 1 || j.PostIDs[0] != fmt.Sprintf("found-%d", id) {
			t.Errorf("job %d posts %v", id, j.PostIDs)
		}
	}
}

// TestStopGivesBackJobsNotStarted: a node that stops lets the publish under
// way finish and gives back the jobs waiting in its queue at once
// (retrying, no attempt used), instead of leaving their leases to run out.
func TestStopGivesBackJobsNotStarted(t *testing.T) {
	h := newHarness(t)
	pf := &scripted{hold: make(chan struct{})}
	h.platform = pf
	h.tune = func(o *Options) { o.Publishers = 1 }
	rt := h.runtime("node-a")
	if _, err := rt.Apply(context.Background(), h.load(burst()), nil, "test"); err != nil {
		t.Fatal(err)
	}
	h.advanceTo(t0.Add(time.Minute))
	h.eventually("one publish under way, the rest queued", func() bool {
		_, _, _, n := pf.snapshot()
		return n == 1 && h.count(store.StatusRunning) == 8
	})
	stopped := make(chan error, 1)
	go func() { stopped <- rt.Stop(context.Background(), time.Minute) }()
	h.eventually("the node no longer accepting work", func() bool { return rt.accepting.Err() != nil })
	pf.hold <- struct{}{}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if s, r := h.count(store.StatusSucceeded), h.count(store.StatusRetrying); s != 1 || r != 7 {
		t.Fatalf("after the stop: %d succeeded, %d retrying; want 1 and 7", s, r)
	}
	page, err := h.store.ListJobs(context.Background(), store.ListJobsParams{Statuses: []store.Status{store.StatusRetrying}})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range page.Jobs {
		if j.Failures != 0 || !j.FirstSentAt.IsZero() || j.Node != "node-a" {
			t.Errorf("given back: %+v; want no failure and no send", j)
		}
	}
	if sent, _, _, _ := pf.snapshot(); len(sent) != 1 {
		t.Errorf("sent %v, want only the publish under way", sent)
	}
}
