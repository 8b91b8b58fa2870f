package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// CheckUpgraded checks a store just migrated from schema 1, whose only job
// (ID 1) was retrying at attempt 2 and due: the job is intact with no
// failures counted, and what later schemas added works on it. Drivers call
// it after building a schema-1 database by hand.
func CheckUpgraded(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	if v, err := s.SchemaVersion(ctx); err != nil || v.Database != v.Binary {
		t.Fatalf("SchemaVersion after upgrading = %+v, %v", v, err)
	}
	j, err := s.GetJob(ctx, 1)
	if err != nil || j.Status != store.StatusRetrying || j.Attempt != 2 || j.Failures != 0 {
		t.Fatalf("job after upgrading = %+v, %v; want retrying at attempt 2 with no failures", j, err)
	}
	ch, err := s.ClaimJobs(ctx, store.ClaimJobsParams{IDs: []int64{j.ID}, Node: nodeA, Now: t0, LeaseUntil: t0.Add(time.Minute)})
	if err != nil || len(ch) != 1 || ch[0].Job.Attempt != 3 {
		t.Fatalf("claim after upgrading = %+v, %v", ch, err)
	}
	res, err := s.Transition(ctx, store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusSucceeded,
		Node: nodeA, Attempt: 3, Now: t0, Failed: true, AppendPostIDs: []string{"p"},
		MetricsTasks: newTasks(stage{acctA, "p", time.Hour, time.Hour})})
	if err != nil || res[0].Err != nil || res[0].Job.Failures != 1 {
		t.Fatalf("transition after upgrading = %+v, %v", res, err)
	}
	tasks, err := s.ClaimMetricsTasks(ctx, store.ClaimMetricsTasksParams{Account: acctA, Node: nodeA, Now: t0.Add(time.Hour),
		LeaseUntil: t0.Add(2 * time.Hour), Limit: 10})
	if err != nil || len(tasks) != 1 || tasks[0].JobID != j.ID {
		t.Fatalf("metrics tasks after upgrading = %+v, %v", tasks, err)
	}
	if v, err := s.PutState(ctx, store.PutStateParams{Key: "k", Value: []byte("v"), Now: t0}); err != nil || v != 1 {
		t.Fatalf("PutState after upgrading = %d, %v", v, err)
	}
}

// schema2Created is when the job of ID id of Schema2Jobs was created.
func schema2Created(id int64) time.Time { return t0.Add(-time.Duration(id) * time.Hour) }

// Schema2Jobs returns the statements that record, in a database at schema
// 2, the jobs CheckUpgradedFrom2 expects (IDs 1 to 5): planned, running
// (node-a, attempt 1, leased until t0+1m), unknown, retrying with a post
// published, and succeeded. postIDs writes the driver's literal of a
// post_ids list.
func Schema2Jobs(postIDs func(ids ...string) string) []string {
	jobs := []struct {
		status     store.Status
		attempt    int
		node       string
		lease, due time.Time
		posts      []string
	}{
		{store.StatusPlanned, 0, "", time.Time{}, t0, nil},
		{store.StatusRunning, 1, nodeA, t0.Add(time.Minute), t0, nil},
		{store.StatusUnknown, 1, nodeA, time.Time{}, t0.Add(-time.Hour), nil},
		{store.StatusRetrying, 1, nodeA, time.Time{}, t0.Add(30 * time.Second), []string{"p1"}},
		{store.StatusSucceeded, 1, nodeA, time.Time{}, t0, []string{"p2"}},
	}
	out := make([]string, len(jobs))
	for i, j := range jobs {
		lease := "NULL"
		if !j.lease.IsZero() {
			lease = fmt.Sprint(j.lease.UnixNano())
		}
		created := schema2Created(int64(i + 1)).UnixNano()
		out[i] = fmt.Sprintf(`INSERT INTO jobs (schedule_id, planned_at, due_at, status, attempt, run, trigger_kind, node,
			lease_until, post_ids, created_at, updated_at) VALUES ('s%d', %d, %d, '%s', %d, 1, 'scheduled', '%s', %s, %s, %d, %d)`,
			i+1, t0.UnixNano(), j.due.UnixNano(), j.status, j.attempt, j.node, lease, postIDs(j.posts...), created, created)
	}
	return out
}

// CheckUpgradedFrom2 checks a store just migrated from schema 2 with the
// jobs of Schema2Jobs: none has a post; the running one has its creation as
// its send floor, and those that may have sent (unknown, posts published)
// as their first send; the unknown job is due for reconciliation, and the
// running one reaches it through an expiry.
func CheckUpgradedFrom2(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	if v, err := s.SchemaVersion(ctx); err != nil || v.Database != v.Binary {
		t.Fatalf("SchemaVersion after upgrading = %+v, %v", v, err)
	}
	want := []struct {
		status           store.Status
		floor, firstSent time.Time
	}{
		{store.StatusPlanned, time.Time{}, time.Time{}},
		{store.StatusRunning, schema2Created(2), time.Time{}},
		{store.StatusUnknown, time.Time{}, schema2Created(3)},
		{store.StatusRetrying, time.Time{}, schema2Created(4)},
		{store.StatusSucceeded, time.Time{}, time.Time{}},
	}
	for i, w := range want {
		id := int64(i + 1)
		j, err := s.GetJob(ctx, id)
		if err != nil || j.Status != w.status || j.Post != nil {
			t.Fatalf("job %d after upgrading = %+v, %v; want %s without a post", id, j, err, w.status)
		}
		checkInstant(t, fmt.Sprintf("job %d: SendFloor", id), j.SendFloor, w.floor)
		checkInstant(t, fmt.Sprintf("job %d: FirstSentAt", id), j.FirstSentAt, w.firstSent)
	}
	unknown, err := s.ClaimUnknown(ctx, store.ClaimUnknownParams{Node: nodeB, Now: t0, Until: t0.Add(time.Minute), Limit: 10})
	if err != nil || len(unknown) != 1 || unknown[0].ID != 3 {
		t.Fatalf("ClaimUnknown after upgrading = %+v, %v; want job 3", unknown, err)
	}
	post := &store.FrozenPost{Account: "acct", Texts: []string{"frozen late"}}
	j, err := s.FreezePost(ctx, store.FreezePostParams{JobID: 2, Node: nodeA, Attempt: 1, Post: *post, Now: t0})
	if err != nil {
		t.Fatalf("FreezePost after upgrading: %v", err)
	}
	checkPost(t, "frozen after upgrading", j.Post, post)
	expired, err := s.ExpireLeases(ctx, store.ExpireLeasesParams{Node: nodeB, Now: t0.Add(2 * time.Minute)})
	if err != nil || len(expired) != 1 || expired[0].Job.ID != 2 {
		t.Fatalf("ExpireLeases after upgrading = %+v, %v; want job 2", expired, err)
	}
	checkInstant(t, "job 2 expired: FirstSentAt", expired[0].Job.FirstSentAt, schema2Created(2))
	ch, err := s.ClaimJobs(ctx, store.ClaimJobsParams{IDs: []int64{1, 4}, Node: nodeA, Now: t0.Add(time.Minute), LeaseUntil: t0.Add(2 * time.Minute)})
	if err != nil || len(ch) != 2 {
		t.Fatalf("ClaimJobs after upgrading = %+v, %v", ch, err)
	}
	for _, c := range ch {
		checkInstant(t, fmt.Sprintf("job %d claimed: SendFloor", c.Job.ID), c.Job.SendFloor, t0.Add(time.Minute))
		checkInstant(t, fmt.Sprintf("job %d claimed: FirstSentAt", c.Job.ID), c.Job.FirstSentAt, want[c.Job.ID-1].firstSent)
	}
}

// schema3Pauses is the pauses document as Herald before schema 4 stored
// it (engine/pauses in kv_state), with instants as encoding/json writes
// them: nine digits, fewer, none, another zone, and one expired at t0.
const schema3Pauses = `{"s1":{"note":"launch freeze","at":"2030-01-02T03:04:05.123456789Z"},` +
	`"s2":{"at":"2030-01-02T05:04:05.5+02:00","until":"2030-01-03T00:00:00Z"},` +
	`"s3":{"note":"old","at":"2029-12-31T00:00:00Z","until":"2030-01-01T00:00:00.000000001Z"}}`

// Schema3Rows returns the statements that record, in a database at schema
// 3, what CheckUpgradedFrom3 expects: a job (ID 1) and the pauses and
// nodes documents. bytes writes the driver's literal of a byte string.
func Schema3Rows(bytes func(string) string) []string {
	return []string{
		fmt.Sprintf(`INSERT INTO jobs (schedule_id, planned_at, due_at, status, attempt, run, trigger_kind, created_at, updated_at)
			VALUES ('s1', %d, %d, 'planned', 0, 1, 'scheduled', 1, 1)`, t0.UnixNano(), t0.UnixNano()),
		fmt.Sprintf(`INSERT INTO kv_state (key, value, version, updated_at) VALUES ('engine/pauses', %s, 3, 1)`, bytes(schema3Pauses)),
		fmt.Sprintf(`INSERT INTO kv_state (key, value, version, updated_at) VALUES ('engine/nodes', %s, 9, 1)`,
			bytes(`{"n1":{"version":"v1","revision":"r","dry_run":false,"started_at":"2030-01-01T00:00:00Z","last_seen":"2030-01-01T00:00:00Z"}}`)),
	}
}

// CheckUpgradedFrom3 checks a store just migrated from schema 3 with the
// rows of Schema3Rows: the pauses in force moved to their table, exact to
// the nanosecond and in UTC; both documents are gone; no node is listed
// (nodes record themselves again); the old job has no origin.
func CheckUpgradedFrom3(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	if v, err := s.SchemaVersion(ctx); err != nil || v.Database != v.Binary {
		t.Fatalf("SchemaVersion after upgrading = %+v, %v", v, err)
	}
	ps, err := s.ListPauses(ctx, store.ListPausesParams{Now: t0})
	if err != nil {
		t.Fatalf("ListPauses after upgrading: %v", err)
	}
	got := make([]string, len(ps))
	for i, p := range ps {
		got[i] = pauseString(p)
	}
	want := []string{
		pauseString(store.Pause{ScheduleID: "s1", Note: "launch freeze", At: time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)}),
		pauseString(store.Pause{ScheduleID: "s2", At: time.Date(2030, 1, 2, 3, 4, 5, 500000000, time.UTC),
			Until: time.Date(2030, 1, 3, 0, 0, 0, 0, time.UTC)}),
	}
	checkList(t, "pauses after upgrading", got, want...)
	for _, key := range []string{"engine/pauses", "engine/nodes"} {
		if _, err := s.GetState(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetState(%s) after upgrading: %v, want ErrNotFound", key, err)
		}
	}
	if nodes, err := s.ListNodes(ctx); err != nil || len(nodes) != 0 {
		t.Errorf("ListNodes after upgrading = %+v, %v; want none", nodes, err)
	}
	if j, err := s.GetJob(ctx, 1); err != nil || j.Revision != "" || j.FiredBy != "" {
		t.Errorf("old job after upgrading = %+v, %v; want no origin", j, err)
	}
}
