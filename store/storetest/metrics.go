package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

const (
	acctA = "acct-a"
	acctB = "acct-b"
)

// stage is one metrics task to create: post, stage and due offset from t0.
type stage struct {
	account, post string
	stage, due    time.Duration
}

func newTasks(stages ...stage) []store.NewMetricsTask {
	out := make([]store.NewMetricsTask, len(stages))
	for i, s := range stages {
		out[i] = store.NewMetricsTask{Account: s.account, PostID: s.post, Stage: s.stage, DueAt: t0.Add(s.due)}
	}
	return out
}

// succeed creates a job and drives it to succeeded at t0+1s, creating tasks.
func (f *fixture) succeed(posts []string, tasks ...stage) store.Job {
	f.t.Helper()
	j := f.inState(store.StatusRunning)
	return f.mustTransition(store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusSucceeded,
		Node: nodeA, Attempt: j.Attempt, Now: t0.Add(time.Second), AppendPostIDs: posts, MetricsTasks: newTasks(tasks...)})
}

// claimTasks claims for node at now, leasing for a minute.
func (f *fixture) claimTasks(account, node string, now time.Time, limit int) []store.MetricsTask {
	f.t.Helper()
	tasks, err := f.s.ClaimMetricsTasks(f.ctx, store.ClaimMetricsTasksParams{Account: account, Node: node, Now: now,
		LeaseUntil: now.Add(time.Minute), Limit: limit})
	if err != nil {
		f.t.Fatalf("ClaimMetricsTasks: %v", err)
	}
	return tasks
}

// allTasks claims every task of account, due or not, far in the future.
func (f *fixture) allTasks(account string) []store.MetricsTask {
	f.t.Helper()
	return f.claimTasks(account, "inspector", t0.Add(1000*time.Hour), 1000)
}

func (f *fixture) accounts() []string {
	f.t.Helper()
	a, err := f.s.MetricsAccounts(f.ctx)
	if err != nil {
		f.t.Fatalf("MetricsAccounts: %v", err)
	}
	return a
}

func taskKey(t store.MetricsTask) string { return fmt.Sprintf("%s/%s", t.PostID, t.Stage) }

func taskIDs(tasks []store.MetricsTask) []int64 {
	ids := make([]int64, len(tasks))
	for i, t := range tasks {
		ids[i] = t.ID
	}
	return ids
}

// testMetricsTasks: tasks are created with the success that asks for them,
// and only when it applies.
func testMetricsTasks(t *testing.T, h Harness) {
	t.Run("created with the success", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		j := f.succeed([]string{"p1", "p2"},
			stage{acctA, "p1", time.Hour, time.Hour}, stage{acctA, "p1", 24 * time.Hour, 24 * time.Hour},
			stage{acctA, "p2", time.Hour, time.Hour},
			stage{acctA, "p1", time.Hour, 2 * time.Hour}) // the same (post, stage) again: created once
		tasks := f.allTasks(acctA)
		var keys []string
		for _, task := range tasks {
			keys = append(keys, taskKey(task))
		}
		if got := fmt.Sprint(keys); got != "[p1/1h0m0s p2/1h0m0s p1/24h0m0s]" {
			t.Errorf("tasks %s, want [p1/1h0m0s p2/1h0m0s p1/24h0m0s]", got)
		}
		for _, task := range tasks {
			if task.JobID != j.ID || task.ScheduleID != j.ScheduleID || task.Account != acctA || !task.DueAt.Equal(t0.Add(task.Stage)) ||
				task.Tries != 0 || task.LastError != "" || !task.CreatedAt.Equal(t0.Add(time.Second)) || task.CreatedAt.Location() != time.UTC {
				t.Errorf("task = %+v", task)
			}
		}
	})

	t.Run("unknown to succeeded", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		j := f.inState(store.StatusUnknown)
		f.mustTransition(store.TransitionParams{JobID: j.ID, From: store.StatusUnknown, To: store.StatusSucceeded, Node: nodeB,
			Now: t0.Add(time.Hour), AppendPostIDs: []string{"found"}, MetricsTasks: newTasks(stage{acctB, "found", time.Hour, time.Hour})})
		if tasks := f.allTasks(acctB); len(tasks) != 1 || tasks[0].JobID != j.ID || tasks[0].PostID != "found" {
			t.Errorf("tasks = %+v", tasks)
		}
	})

	t.Run("only when the transition applies", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		a := f.inState(store.StatusRunning)
		b := f.inState(store.StatusRunning)
		c := f.inState(store.StatusPlanned)
		d := f.inState(store.StatusRunning)
		now := t0.Add(time.Minute)
		task := func(account string) []store.NewMetricsTask {
			return newTasks(stage{account, "p", time.Hour, time.Hour})
		}
		res, err := f.s.Transition(f.ctx,
			store.TransitionParams{JobID: a.ID, From: store.StatusRunning, To: store.StatusSucceeded, Node: nodeA, Attempt: a.Attempt,
				Now: now, MetricsTasks: task(acctA)},
			store.TransitionParams{JobID: b.ID, From: store.StatusRunning, To: store.StatusSucceeded, Node: nodeB, Attempt: b.Attempt,
				Now: now, MetricsTasks: task("stale")}, // not nodeB's lease
			store.TransitionParams{JobID: c.ID, From: store.StatusPlanned, To: store.StatusSucceeded, Node: nodeA,
				Now: now, MetricsTasks: task("illegal")},
			store.TransitionParams{JobID: d.ID, From: store.StatusRunning, To: store.StatusRetrying, Node: nodeA, Attempt: d.Attempt,
				Now: now, RetryAt: now, MetricsTasks: task("retrying")}, // tasks only on -> succeeded
			store.TransitionParams{JobID: d.ID, From: store.StatusRunning, To: store.StatusSucceeded, Node: nodeA, Attempt: d.Attempt,
				Now: now, MetricsTasks: []store.NewMetricsTask{{Account: "no-due", PostID: "p", Stage: time.Hour}}},
			store.TransitionParams{JobID: d.ID, From: store.StatusRunning, To: store.StatusSucceeded, Node: nodeA, Attempt: d.Attempt,
				Now: now, MetricsTasks: []store.NewMetricsTask{{PostID: "p", DueAt: now}}}, // no account
			store.TransitionParams{JobID: d.ID, From: store.StatusRunning, To: store.StatusSucceeded, Node: nodeA, Attempt: d.Attempt,
				Now: now, MetricsTasks: []store.NewMetricsTask{{Account: "neg", PostID: "p", Stage: -time.Hour, DueAt: now}}},
			store.TransitionParams{JobID: d.ID, From: store.StatusRunning, To: store.StatusSucceeded, Node: nodeA, Attempt: d.Attempt,
				Now: now, MetricsTasks: []store.NewMetricsTask{{Account: "no-post", DueAt: now}}},
		)
		if err != nil {
			t.Fatal(err)
		}
		want := []error{nil, store.ErrConflict, store.ErrIllegalTransition, store.ErrInvalid, store.ErrInvalid, store.ErrInvalid,
			store.ErrInvalid, store.ErrInvalid}
		for i, w := range want {
			checkErr(t, res[i].Err, w)
		}
		if got := f.accounts(); !slices.Equal(got, []string{acctA}) {
			t.Errorf("accounts with tasks = %q, want only %q", got, acctA)
		}
		if got := f.get(d.ID); got.Status != store.StatusRunning {
			t.Errorf("job with invalid tasks is %s, want still running", got.Status)
		}
	})
}

// testMetricsClaim: due order, limit, leases and concurrent claimers.
func testMetricsClaim(t *testing.T, h Harness) {
	t.Run("order, limit and leases", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		if next, ok, err := f.s.NextMetricsDue(f.ctx, acctA); err != nil || ok || !next.IsZero() {
			t.Errorf("NextMetricsDue with no task = %v, %v, %v; want none", next, ok, err)
		}
		if got := f.accounts(); len(got) != 0 {
			t.Errorf("accounts = %q, want none", got)
		}
		f.succeed([]string{"x"},
			stage{acctA, "p3", 3 * time.Hour, 3 * time.Hour},
			stage{acctA, "p1", time.Hour, time.Hour},
			stage{acctB, "b1", time.Minute, time.Minute}, // other account: never in acctA's claims
			stage{acctA, "p2", time.Hour, time.Hour},     // same due as p1, created later: after it
			stage{acctA, "p4", 10 * time.Hour, 10 * time.Hour})
		if got := f.accounts(); !slices.Equal(got, []string{acctA, acctB}) {
			t.Errorf("accounts = %q", got)
		}
		checkNext := func(account string, want time.Time) {
			t.Helper()
			next, ok, err := f.s.NextMetricsDue(f.ctx, account)
			if err != nil || !ok || !next.Equal(want) || next.Location() != time.UTC {
				t.Errorf("NextMetricsDue(%s) = %v, %v, %v; want %v", account, next, ok, err, want)
			}
		}
		checkNext(acctA, t0.Add(time.Hour))
		checkNext(acctB, t0.Add(time.Minute))

		keys := func(tasks []store.MetricsTask) string {
			var out []string
			for _, t := range tasks {
				out = append(out, t.PostID)
			}
			return fmt.Sprint(out)
		}
		if got := f.claimTasks(acctA, nodeA, t0.Add(time.Hour-time.Nanosecond), 10); len(got) != 0 {
			t.Errorf("claimed %s before anything was due", keys(got))
		}
		now := t0.Add(3 * time.Hour)
		first := f.claimTasks(acctA, nodeA, now, 2)
		if keys(first) != "[p1 p2]" {
			t.Fatalf("first claim %s, want [p1 p2]", keys(first))
		}
		for _, task := range first {
			if task.Node != nodeA || !task.LeaseUntil.Equal(now.Add(time.Minute)) {
				t.Errorf("claimed task = %+v", task)
			}
		}
		if got := f.claimTasks(acctA, nodeB, now, 10); keys(got) != "[p3]" {
			t.Errorf("second claim %s, want [p3] (p1, p2 leased, p4 not due)", keys(got))
		}
		// The leases of p1 and p2 end at now+1m; p4 is due at t0+10h.
		checkNext(acctA, now.Add(time.Minute))
		if got := f.claimTasks(acctA, nodeB, now.Add(time.Minute-time.Nanosecond), 10); len(got) != 0 {
			t.Errorf("claimed %s under a live lease", keys(got))
		}
		again := f.claimTasks(acctA, nodeA, now.Add(time.Minute), 10)
		if keys(again) != "[p1 p2 p3]" || again[2].Node != nodeA || again[0].ID != first[0].ID {
			t.Errorf("claim when the leases end = %+v, want p1, p2 and p3 for %s", again, nodeA)
		}
	})

	t.Run("concurrent claimers", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		var batch []store.TransitionParams
		for i := range 20 {
			j := f.inState(store.StatusRunning)
			var stages []stage
			for k := range 10 {
				stages = append(stages, stage{acctA, fmt.Sprintf("p%d", i), time.Duration(k+1) * time.Hour, time.Duration(k) * time.Minute})
			}
			batch = append(batch, store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusSucceeded,
				Node: nodeA, Attempt: j.Attempt, Now: t0, MetricsTasks: newTasks(stages...)})
		}
		res, err := f.s.Transition(f.ctx, batch...)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
		const claimers, total = 32, 200
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			claimed = map[int64]string{}
		)
		start := make(chan struct{})
		for i := range claimers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				node := fmt.Sprintf("n%02d", i)
				now := t0.Add(time.Hour)
				for {
					tasks, err := f.s.ClaimMetricsTasks(f.ctx, store.ClaimMetricsTasksParams{Account: acctA, Node: node, Now: now,
						LeaseUntil: now.Add(time.Minute), Limit: 3})
					if err != nil {
						t.Errorf("ClaimMetricsTasks: %v", err)
						return
					}
					if len(tasks) == 0 {
						return
					}
					mu.Lock()
					dup := false
					for _, task := range tasks {
						if prev, ok := claimed[task.ID]; ok {
							t.Errorf("task %d claimed by %s and %s", task.ID, prev, node)
							dup = true
						}
						claimed[task.ID] = node
					}
					mu.Unlock()
					if dup { // leases are not kept: this loop would not end
						return
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(claimed) != total {
			t.Errorf("%d tasks claimed, want %d", len(claimed), total)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		lease := t0.Add(time.Minute)
		cases := []store.ClaimMetricsTasksParams{
			{Node: nodeA, Now: t0, LeaseUntil: lease, Limit: 1},                  // no account
			{Account: acctA, Now: t0, LeaseUntil: lease, Limit: 1},               // no node
			{Account: acctA, Node: nodeA, LeaseUntil: lease, Limit: 1},           // no now
			{Account: acctA, Node: nodeA, Now: t0, Limit: 1},                     // no lease
			{Account: acctA, Node: nodeA, Now: t0, LeaseUntil: t0, Limit: 1},     // lease not after now
			{Account: acctA, Node: nodeA, Now: t0, LeaseUntil: lease},            // no limit
			{Account: acctA, Node: nodeA, Now: t0, LeaseUntil: lease, Limit: -1}, // negative
		}
		for i, p := range cases {
			if _, err := f.s.ClaimMetricsTasks(f.ctx, p); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("case %d: error = %v, want ErrInvalid", i, err)
			}
		}
	})
}
