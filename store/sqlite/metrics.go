package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

const taskColumns = `id, job_id, schedule_id, account, post_id, stage, due_at, tries, node, lease_until, last_error, created_at`

func scanTask(row scanner) (store.MetricsTask, error) {
	var (
		t                   store.MetricsTask
		stage, due, created int64
		lease               sql.NullInt64
	)
	err := row.Scan(&t.ID, &t.JobID, &t.ScheduleID, &t.Account, &t.PostID, &stage, &due, &t.Tries, &t.Node, &lease,
		&t.LastError, &created)
	if err != nil {
		return t, interpretError(err)
	}
	t.Stage, t.DueAt, t.CreatedAt = time.Duration(stage), storeutil.Time(due), storeutil.Time(created)
	if lease.Valid {
		t.LeaseUntil = storeutil.Time(lease.Int64)
	}
	return t, nil
}

// ClaimMetricsTasks leases due tasks of one account in one statement; the
// single writer makes the pick and the update atomic.
func (s *Store) ClaimMetricsTasks(ctx context.Context, params store.ClaimMetricsTasksParams) ([]store.MetricsTask, error) {
	c, err := storeutil.CheckMetricsClaim(params)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	var tasks []store.MetricsTask
	err = s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE metrics_tasks SET node = ?1, lease_until = ?2
			WHERE id IN (SELECT id FROM metrics_tasks
				WHERE account = ?3 AND due_at <= ?4 AND (lease_until IS NULL OR lease_until <= ?4)
				ORDER BY due_at, id LIMIT ?5)
			RETURNING `+taskColumns, c.Node, c.LeaseUntilN, c.Account, c.NowN, c.Limit)
		tasks, err = collect(rows, err, scanTask)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim metrics tasks: %w", err)
	}
	slices.SortFunc(tasks, func(a, b store.MetricsTask) int {
		return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.ID, b.ID))
	})
	return tasks, nil
}

// NextMetricsDue returns when the account's first task becomes claimable.
func (s *Store) NextMetricsDue(ctx context.Context, account string) (time.Time, bool, error) {
	var next sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT min(max(due_at, coalesce(lease_until, due_at))) FROM metrics_tasks
		WHERE account = ?`, account).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sqlite: next metrics due of %q: %w", account, interpretError(err))
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return storeutil.Time(next.Int64), true, nil
}

// MetricsAccounts lists the accounts with pending tasks.
func (s *Store) MetricsAccounts(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT account FROM metrics_tasks ORDER BY account`)
	accounts, err := collect(rows, err, func(r scanner) (a string, err error) {
		err = r.Scan(&a)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: metrics accounts: %w", err)
	}
	return accounts, nil
}

// taskLeases reads the identity and lease of the tasks ids.
func taskLeases(ctx context.Context, tx *sql.Tx, ids []int64) (map[int64]storeutil.TaskLease, error) {
	out := make(map[int64]storeutil.TaskLease, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, job_id, post_id, stage, due_at, node, lease_until IS NOT NULL
		FROM metrics_tasks WHERE id IN (SELECT value FROM json_each(?))`, string(b))
	leases, err := collect(rows, err, func(r scanner) (t storeutil.TaskLease, err error) {
		err = r.Scan(&t.ID, &t.JobID, &t.PostID, &t.Stage, &t.DueAt, &t.Node, &t.Leased)
		return t, err
	})
	for _, t := range leases {
		out[t.ID] = t
	}
	return out, err
}

// CompleteMetricsTasks records the snapshots of the tasks params.Node holds
// and deletes those tasks, in one transaction.
func (s *Store) CompleteMetricsTasks(ctx context.Context, params store.CompleteMetricsTasksParams) ([]error, error) {
	now, ids, errs, err := storeutil.CheckComplete(params)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if len(ids) == 0 {
		return errs, nil
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		leases, err := taskLeases(ctx, tx, ids)
		if err != nil {
			return err
		}
		snaps, err := storeutil.PlanComplete(params, now, leases, errs)
		if err != nil || len(snaps) == 0 {
			return err
		}
		insert, err := tx.PrepareContext(ctx, `INSERT INTO metrics_snapshots (job_id, post_id, stage, due_at, captured_at,
			likes, reposts, replies, quotes, bookmarks, impressions, non_public, organic, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, post_id, stage) DO NOTHING`)
		if err != nil {
			return interpretError(err)
		}
		defer insert.Close()
		remove, err := tx.PrepareContext(ctx, `DELETE FROM metrics_tasks WHERE id = ?`)
		if err != nil {
			return interpretError(err)
		}
		defer remove.Close()
		for _, sn := range snaps {
			if _, err := insert.ExecContext(ctx, sn.JobID, sn.PostID, sn.StageN, sn.DueN, sn.CapturedN, sn.Likes, sn.Reposts,
				sn.Replies, sn.Quotes, sn.Bookmarks, sn.Impressions, sn.NonPublicJSON, sn.OrganicJSON, sn.Detail); err != nil {
				return fmt.Errorf("metrics task %d: record snapshot: %w", sn.TaskID, interpretError(err))
			}
			if _, err := remove.ExecContext(ctx, sn.TaskID); err != nil {
				return fmt.Errorf("metrics task %d: delete: %w", sn.TaskID, interpretError(err))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: complete metrics tasks: %w", err)
	}
	return errs, nil
}

// DeferMetricsTasks releases the leases params.Node holds and sets the new
// due time.
func (s *Store) DeferMetricsTasks(ctx context.Context, params store.DeferMetricsTasksParams) ([]error, error) {
	d, err := storeutil.CheckDefer(params)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	errs := make([]error, len(d.TaskIDs))
	if len(d.TaskIDs) == 0 {
		return errs, nil
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		leases, err := taskLeases(ctx, tx, d.TaskIDs)
		if err != nil {
			return err
		}
		var ids []int64
		ids, errs = storeutil.PlanDefer(d, leases)
		if len(ids) == 0 {
			return nil
		}
		b, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE metrics_tasks SET lease_until = NULL, due_at = ?, tries = tries + 1,
			last_error = CASE WHEN ? <> '' THEN ? ELSE last_error END
			WHERE id IN (SELECT value FROM json_each(?))`, d.DueN, d.Error, d.Error, string(b))
		return interpretError(err)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: defer metrics tasks: %w", err)
	}
	return errs, nil
}

const snapshotColumns = `job_id, post_id, stage, due_at, captured_at, likes, reposts, replies, quotes, bookmarks,
	impressions, non_public, organic, detail`

// PostMetrics returns a job's snapshots in post and stage order.
func (s *Store) PostMetrics(ctx context.Context, jobID int64) ([]store.MetricsSnapshot, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+snapshotColumns+` FROM metrics_snapshots WHERE job_id = ?`, jobID)
	snaps, err := collect(rows, err, func(r scanner) (sn store.MetricsSnapshot, err error) {
		var (
			stage, due, captured int64
			nonPublic, organic   sql.NullString
		)
		if err := r.Scan(&sn.JobID, &sn.PostID, &stage, &due, &captured, &sn.Likes, &sn.Reposts, &sn.Replies, &sn.Quotes,
			&sn.Bookmarks, &sn.Impressions, &nonPublic, &organic, &sn.Detail); err != nil {
			return sn, interpretError(err)
		}
		sn.Stage, sn.DueAt, sn.CapturedAt = time.Duration(stage), storeutil.Time(due), storeutil.Time(captured)
		if sn.NonPublic, err = storeutil.DecodeCounts(nullString(nonPublic)); err != nil {
			return sn, err
		}
		sn.Organic, err = storeutil.DecodeCounts(nullString(organic))
		return sn, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: metrics of job %d: %w", jobID, err)
	}
	if len(snaps) == 0 {
		return snaps, nil
	}
	job, err := s.GetJob(ctx, jobID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("sqlite: metrics of job %d: %w", jobID, err)
	}
	storeutil.SortSnapshots(snaps, job.PostIDs)
	return snaps, nil
}

func nullString(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}
