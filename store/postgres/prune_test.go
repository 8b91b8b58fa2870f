package postgres_test

import (
	"context"
	"hash/fnv"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/postgres/pgtest"
)

// TestPruneOneNodeAtATime: a batch skips, deleting nothing, while another
// transaction holds the prune lock (another node pruning), and it does not
// wait for the write lock fires hold.
func TestPruneOneNodeAtATime(t *testing.T) {
	t.Parallel()
	s := pgtest.Open(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a regression fails instead of hanging
	defer cancel()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	res, err := s.CreateJobs(ctx, store.CreateJobsParams{Node: "n", Now: now,
		Jobs: []store.NewJob{{ScheduleID: "s", PlannedAt: now, Status: store.StatusMissed}}})
	if err != nil || len(res) != 1 {
		t.Fatalf("CreateJobs: %v, %v", res, err)
	}
	h := fnv.New32a()
	h.Write([]byte(s.Schema()))
	hold := func(class int32) func() {
		tx, err := s.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, class, int32(h.Sum32())); err != nil {
			t.Fatal(err)
		}
		return func() { _ = tx.Rollback(ctx) }
	}
	p := store.PruneParams{Before: now.Add(time.Hour), Limit: 10}

	release := hold(0x48525031) // the prune lock: another node prunes
	got, err := s.PruneJobs(ctx, p)
	release()
	if err != nil || got != (store.PruneResult{Skipped: true}) {
		t.Fatalf("PruneJobs while another node prunes = %+v, %v; want skipped", got, err)
	}

	release = hold(0x48525731) // the write lock: a burst of fires
	defer release()
	got, err = s.PruneJobs(ctx, p)
	if err != nil || got.Jobs != 1 || got.Skipped {
		t.Fatalf("PruneJobs under the write lock = %+v, %v; want the job pruned", got, err)
	}
}
