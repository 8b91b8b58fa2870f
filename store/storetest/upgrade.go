package storetest

import (
	"context"
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
