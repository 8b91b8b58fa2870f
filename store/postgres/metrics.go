package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

var taskColumnNames = []string{"id", "job_id", "schedule_id", "account", "post_id", "stage", "due_at", "tries", "node",
	"lease_until", "last_error", "created_at"}

func scanTask(row pgx.Row) (store.MetricsTask, error) {
	var (
		t                   store.MetricsTask
		stage, due, created int64
		lease               *int64
	)
	err := row.Scan(&t.ID, &t.JobID, &t.ScheduleID, &t.Account, &t.PostID, &stage, &due, &t.Tries, &t.Node, &lease,
		&t.LastError, &created)
	if err != nil {
		return t, interpretError(err)
	}
	t.Stage, t.DueAt, t.CreatedAt = time.Duration(stage), storeutil.Time(due), storeutil.Time(created)
	t.LeaseUntil = storeutil.OptTime(lease)
	return t, nil
}

// claimTasksSQL leases an account's due tasks. SKIP LOCKED keeps claimers
// that do not take the write lock apart too.
var claimTasksSQL = `WITH picked AS (
	SELECT id FROM metrics_tasks
	WHERE account = $1 AND due_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
	ORDER BY due_at, id LIMIT $3
	FOR UPDATE SKIP LOCKED
)
UPDATE metrics_tasks t SET node = $4, lease_until = $5
FROM picked p WHERE t.id = p.id
RETURNING t.` + strings.Join(taskColumnNames, ", t.")

// ClaimMetricsTasks leases due tasks of one account in one statement.
func (s *Store) ClaimMetricsTasks(ctx context.Context, params store.ClaimMetricsTasksParams) ([]store.MetricsTask, error) {
	c, err := storeutil.CheckMetricsClaim(params)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	var tasks []store.MetricsTask
	err = s.write(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, claimTasksSQL, c.Account, c.NowN, c.Limit, c.Node, c.LeaseUntilN)
		tasks, err = collect(rows, err, scanTask)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim metrics tasks: %w", err)
	}
	slices.SortFunc(tasks, func(a, b store.MetricsTask) int {
		return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.ID, b.ID))
	})
	return tasks, nil
}

// NextMetricsDue returns when the account's first task becomes claimable.
func (s *Store) NextMetricsDue(ctx context.Context, account string) (time.Time, bool, error) {
	var next *int64
	err := s.pool.QueryRow(ctx, `SELECT min(greatest(due_at, lease_until)) FROM metrics_tasks WHERE account = $1`,
		account).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("postgres: next metrics due of %q: %w", account, interpretError(err))
	}
	if next == nil {
		return time.Time{}, false, nil
	}
	return storeutil.Time(*next), true, nil
}

// MetricsAccounts lists the accounts with pending tasks.
func (s *Store) MetricsAccounts(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT account FROM metrics_tasks ORDER BY account`)
	accounts, err := collect(rows, err, func(r pgx.Row) (a string, err error) {
		err = r.Scan(&a)
		return a, interpretError(err)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: metrics accounts: %w", err)
	}
	return accounts, nil
}

// taskLeases reads, and locks, the identity and lease of the tasks ids.
func taskLeases(ctx context.Context, tx pgx.Tx, ids []int64) (map[int64]storeutil.TaskLease, error) {
	rows, err := tx.Query(ctx, `SELECT id, job_id, post_id, stage, due_at, node, lease_until IS NOT NULL
		FROM metrics_tasks WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`, ids)
	leases, err := collect(rows, err, func(r pgx.Row) (t storeutil.TaskLease, err error) {
		err = r.Scan(&t.ID, &t.JobID, &t.PostID, &t.Stage, &t.DueAt, &t.Node, &t.Leased)
		return t, interpretError(err)
	})
	out := make(map[int64]storeutil.TaskLease, len(leases))
	for _, t := range leases {
		out[t.ID] = t
	}
	return out, err
}

// CompleteMetricsTasks records the snapshots of the tasks params.Node holds
// and deletes those tasks: one statement for each, in one transaction.
func (s *Store) CompleteMetricsTasks(ctx context.Context, params store.CompleteMetricsTasksParams) ([]error, error) {
	now, ids, errs, err := storeutil.CheckComplete(params)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if len(ids) == 0 {
		return errs, nil
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		leases, err := taskLeases(ctx, tx, ids)
		if err != nil {
			return err
		}
		snaps, err := storeutil.PlanComplete(params, now, leases, errs)
		if err != nil || len(snaps) == 0 {
			return err
		}
		n := len(snaps)
		var (
			taskIDs, jobIDs, stages, dues, captured               = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
			likes, reposts, replies, quotes, bookmarks, impressed = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
			posts, details                                        = make([]string, n), make([]string, n)
			nonPublic, organic                                    = make([]*string, n), make([]*string, n)
		)
		for k, sn := range snaps {
			taskIDs[k], jobIDs[k], posts[k], stages[k], dues[k], captured[k] = sn.TaskID, sn.JobID, sn.PostID, sn.StageN, sn.DueN, sn.CapturedN
			likes[k], reposts[k], replies[k], quotes[k], bookmarks[k], impressed[k] = sn.Likes, sn.Reposts, sn.Replies, sn.Quotes, sn.Bookmarks, sn.Impressions
			nonPublic[k], organic[k], details[k] = sn.NonPublicJSON, sn.OrganicJSON, sn.Detail
		}
		_, err = tx.Exec(ctx, `INSERT INTO metrics_snapshots (job_id, post_id, stage, due_at, captured_at,
				likes, reposts, replies, quotes, bookmarks, impressions, non_public, organic, detail)
			SELECT job_id, post_id, stage, due_at, captured_at, likes, reposts, replies, quotes, bookmarks, impressions,
				non_public, organic, detail
			FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
				$8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::text[], $13::text[], $14::text[])
				WITH ORDINALITY AS s(job_id, post_id, stage, due_at, captured_at, likes, reposts, replies, quotes, bookmarks,
					impressions, non_public, organic, detail, ord)
			ORDER BY ord
			ON CONFLICT (job_id, post_id, stage) DO NOTHING`,
			jobIDs, posts, stages, dues, captured, likes, reposts, replies, quotes, bookmarks, impressed, nonPublic, organic, details)
		if err != nil {
			return fmt.Errorf("record snapshots: %w", interpretError(err))
		}
		if _, err := tx.Exec(ctx, `DELETE FROM metrics_tasks WHERE id = ANY($1::bigint[])`, taskIDs); err != nil {
			return fmt.Errorf("delete tasks: %w", interpretError(err))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: complete metrics tasks: %w", err)
	}
	return errs, nil
}

// DeferMetricsTasks releases the leases params.Node holds and sets the new
// due time.
func (s *Store) DeferMetricsTasks(ctx context.Context, params store.DeferMetricsTasksParams) ([]error, error) {
	d, err := storeutil.CheckDefer(params)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	errs := make([]error, len(d.TaskIDs))
	if len(d.TaskIDs) == 0 {
		return errs, nil
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		leases, err := taskLeases(ctx, tx, d.TaskIDs)
		if err != nil {
			return err
		}
		var ids []int64
		ids, errs = storeutil.PlanDefer(d, leases)
		if len(ids) == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE metrics_tasks SET lease_until = NULL, due_at = $1, tries = tries + 1,
			last_error = CASE WHEN $2 <> '' THEN $2 ELSE last_error END
			WHERE id = ANY($3::bigint[])`, d.DueN, d.Error, ids)
		return interpretError(err)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: defer metrics tasks: %w", err)
	}
	return errs, nil
}

// PostMetrics returns a job's snapshots in post and stage order.
func (s *Store) PostMetrics(ctx context.Context, jobID int64) ([]store.MetricsSnapshot, error) {
	rows, err := s.pool.Query(ctx, `SELECT job_id, post_id, stage, due_at, captured_at, likes, reposts, replies, quotes,
		bookmarks, impressions, non_public, organic, detail FROM metrics_snapshots WHERE job_id = $1`, jobID)
	snaps, err := collect(rows, err, func(r pgx.Row) (sn store.MetricsSnapshot, err error) {
		var (
			stage, due, captured int64
			nonPublic, organic   *string
		)
		if err := r.Scan(&sn.JobID, &sn.PostID, &stage, &due, &captured, &sn.Likes, &sn.Reposts, &sn.Replies, &sn.Quotes,
			&sn.Bookmarks, &sn.Impressions, &nonPublic, &organic, &sn.Detail); err != nil {
			return sn, interpretError(err)
		}
		sn.Stage, sn.DueAt, sn.CapturedAt = time.Duration(stage), storeutil.Time(due), storeutil.Time(captured)
		if sn.NonPublic, err = storeutil.DecodeCounts(nonPublic); err != nil {
			return sn, err
		}
		sn.Organic, err = storeutil.DecodeCounts(organic)
		return sn, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: metrics of job %d: %w", jobID, err)
	}
	if len(snaps) == 0 {
		return snaps, nil
	}
	job, err := s.GetJob(ctx, jobID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("postgres: metrics of job %d: %w", jobID, err)
	}
	storeutil.SortSnapshots(snaps, job.PostIDs)
	return snaps, nil
}
