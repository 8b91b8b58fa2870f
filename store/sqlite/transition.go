package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

// transitionSQL is the conditional update: it matches only a job still in
// From and, out of running, still under the caller's lease.
const transitionSQL = `UPDATE jobs SET
	status      = ?1,
	due_at      = CASE WHEN ?2 <> 0 THEN ?2 ELSE due_at END,
	lease_until = NULL,
	last_error  = CASE WHEN ?3 <> '' THEN ?3 ELSE last_error END,
	dead_reason = CASE ?1 WHEN 'dead' THEN ?4 WHEN 'planned' THEN '' ELSE dead_reason END,
	failures    = CASE WHEN ?1 = 'planned' THEN 0 WHEN ?10 THEN failures + 1 ELSE failures END,
	first_sent_at = COALESCE(first_sent_at, NULLIF(?11, 0)),
	updated_at  = ?5
WHERE id = ?6 AND status = ?7 AND (?8 = 0 OR attempt = ?8) AND (?9 = '' OR node = ?9)
RETURNING ` + jobColumns

// insertTaskSQL creates a metrics task; one already recorded for the same
// (job, post, stage) is kept.
const insertTaskSQL = `INSERT INTO metrics_tasks (job_id, schedule_id, account, post_id, stage, due_at, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, post_id, stage) DO NOTHING`

// Transition applies the batch in one transaction, item by item.
func (s *Store) Transition(ctx context.Context, params ...store.TransitionParams) ([]store.TransitionResult, error) {
	results := make([]store.TransitionResult, len(params))
	checked := make([]storeutil.Transition, len(params))
	todo := 0
	for i, p := range params {
		if checked[i], results[i].Err = storeutil.CheckTransition(p); results[i].Err == nil {
			todo++
		}
	}
	if todo == 0 {
		return results, nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		update, err := tx.PrepareContext(ctx, transitionSQL)
		if err != nil {
			return interpretError(err)
		}
		defer update.Close()
		event, err := tx.PrepareContext(ctx, insertEventSQL)
		if err != nil {
			return interpretError(err)
		}
		defer event.Close()
		var tasks *sql.Stmt // prepared on first use: most batches create none
		defer func() {
			if tasks != nil {
				tasks.Close()
			}
		}()
		for i, t := range checked {
			if results[i].Err != nil {
				continue
			}
			node := ""
			if t.CheckLease {
				node = t.Node
			}
			job, err := scanJob(update.QueryRowContext(ctx, string(t.To), t.DueN, t.LastError, t.DeadReason, t.NowN,
				t.JobID, string(t.From), t.Attempt, node, t.Failed, t.SentN))
			if errors.Is(err, store.ErrNotFound) { // the condition did not hold
				if results[i].Err, err = conflict(ctx, tx, t); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			if len(t.AppendPostIDs) > 0 {
				if job.PostIDs, err = setPostIDs(ctx, tx, job, t.AppendPostIDs); err != nil {
					return err
				}
			}
			ev, err := insertEvent(ctx, event, store.Event{JobID: job.ID, At: storeutil.Time(t.NowN), From: t.From, To: t.To,
				Node: t.Node, Attempt: job.Attempt, Detail: t.Detail})
			if err != nil {
				return err
			}
			if len(t.Tasks) > 0 && tasks == nil {
				if tasks, err = tx.PrepareContext(ctx, insertTaskSQL); err != nil {
					return interpretError(err)
				}
			}
			for _, nt := range t.Tasks {
				if _, err := tasks.ExecContext(ctx, job.ID, job.ScheduleID, nt.Account, nt.PostID, int64(nt.Stage), nt.DueN, t.NowN); err != nil {
					return fmt.Errorf("job %d: create metrics task: %w", job.ID, interpretError(err))
				}
			}
			results[i].Change = store.Change{Job: job, Event: ev}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: transition: %w", err)
	}
	return results, nil
}

// current reads what a failed conditional update ran into.
func current(ctx context.Context, tx *sql.Tx, id int64) (found bool, status store.Status, node string, attempt int, err error) {
	err = tx.QueryRowContext(ctx, `SELECT status, node, attempt FROM jobs WHERE id = ?`, id).Scan(&status, &node, &attempt)
	if errors.Is(err, sql.ErrNoRows) {
		return false, "", "", 0, nil
	}
	return err == nil, status, node, attempt, interpretError(err)
}

// leaseConflict is the error of a lease operation whose update matched no
// row: a *store.LeaseError, or the error reading the job.
func leaseConflict(ctx context.Context, tx *sql.Tx, jobID int64, node string, attempt int) error {
	found, status, actualNode, actualAttempt, err := current(ctx, tx, jobID)
	if err != nil {
		return err
	}
	return storeutil.LeaseConflict(jobID, node, attempt, found, status, actualNode, actualAttempt)
}

func conflict(ctx context.Context, tx *sql.Tx, t storeutil.Transition) (itemErr, err error) {
	found, status, node, attempt, err := current(ctx, tx, t.JobID)
	if err != nil {
		return nil, err
	}
	return storeutil.Conflict(t, found, status, node, attempt), nil
}

func setPostIDs(ctx context.Context, tx *sql.Tx, job store.Job, add []string) ([]string, error) {
	ids := append(slices.Clip(job.PostIDs), add...)
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET post_ids = ? WHERE id = ?`, string(b), job.ID); err != nil {
		return nil, interpretError(err)
	}
	return ids, nil
}

// RenewLeases extends each lease still held by params.Node.
func (s *Store) RenewLeases(ctx context.Context, params store.RenewLeasesParams) ([]error, error) {
	now, until, err := storeutil.CheckLease(params.Node, params.Now, params.LeaseUntil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: renew leases: %w", err)
	}
	errs := make([]error, len(params.Leases))
	err = s.write(ctx, func(tx *sql.Tx) error {
		renew, err := tx.PrepareContext(ctx, `UPDATE jobs SET lease_until = ?, updated_at = ?
			WHERE id = ? AND status = 'running' AND node = ? AND attempt = ?`)
		if err != nil {
			return interpretError(err)
		}
		defer renew.Close()
		for i, l := range params.Leases {
			res, err := renew.ExecContext(ctx, until, now, l.JobID, params.Node, l.Attempt)
			if err != nil {
				return interpretError(err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 1 {
				if err != nil {
					return interpretError(err)
				}
				continue
			}
			found, status, node, attempt, err := current(ctx, tx, l.JobID)
			if err != nil {
				return err
			}
			errs[i] = storeutil.LeaseConflict(l.JobID, params.Node, l.Attempt, found, status, node, attempt)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: renew leases: %w", err)
	}
	return errs, nil
}

// RecordPosts appends post IDs to a running job under the caller's lease.
func (s *Store) RecordPosts(ctx context.Context, params store.RecordPostsParams) (store.Job, error) {
	var job store.Job
	r, err := storeutil.CheckRecordPosts(params)
	if err != nil {
		return job, fmt.Errorf("sqlite: record posts: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		job, err = scanJob(tx.QueryRowContext(ctx, `UPDATE jobs SET updated_at = ?, first_sent_at = COALESCE(first_sent_at, NULLIF(?, 0))
			WHERE id = ? AND status = 'running' AND node = ? AND attempt = ? RETURNING `+jobColumns,
			r.NowN, r.SentN, params.JobID, params.Node, params.Attempt))
		if errors.Is(err, store.ErrNotFound) {
			return leaseConflict(ctx, tx, params.JobID, params.Node, params.Attempt)
		}
		if err != nil {
			return err
		}
		job.PostIDs, err = setPostIDs(ctx, tx, job, params.PostIDs)
		return err
	})
	if err != nil {
		return store.Job{}, fmt.Errorf("sqlite: record posts: %w", err)
	}
	return job, nil
}

// ExpireLeases moves running jobs with a lease before Now to unknown.
func (s *Store) ExpireLeases(ctx context.Context, params store.ExpireLeasesParams) ([]store.Change, error) {
	now, err := storeutil.Nanos("Now", params.Now)
	if err != nil {
		return nil, fmt.Errorf("sqlite: expire leases: %w", err)
	}
	limit := params.Limit
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	var changes []store.Change
	err = s.write(ctx, func(tx *sql.Tx) error {
		type expired struct{ id, lease int64 }
		rows, err := tx.QueryContext(ctx, `SELECT id, lease_until FROM jobs WHERE status = 'running' AND lease_until < ?
			ORDER BY lease_until, id LIMIT ?`, now, limit)
		picks, err := collect(rows, err, func(r scanner) (e expired, err error) {
			err = r.Scan(&e.id, &e.lease)
			return e, err
		})
		if err != nil || len(picks) == 0 {
			return err
		}
		// A lost attempt may have sent, from its send floor on (from the
		// job's creation when an older Herald claimed it without one); its
		// reconciliation is due at once.
		update, err := tx.PrepareContext(ctx, `UPDATE jobs SET status = 'unknown', lease_until = NULL, due_at = ?1,
			first_sent_at = COALESCE(first_sent_at, send_floor, created_at), updated_at = ?1
			WHERE id = ?2 RETURNING `+jobColumns)
		if err != nil {
			return interpretError(err)
		}
		defer update.Close()
		event, err := tx.PrepareContext(ctx, insertEventSQL)
		if err != nil {
			return interpretError(err)
		}
		defer event.Close()
		for _, p := range picks {
			id, lease := p.id, p.lease
			job, err := scanJob(update.QueryRowContext(ctx, now, id))
			if err != nil {
				return err
			}
			ev, err := insertEvent(ctx, event, store.Event{JobID: id, At: storeutil.Time(now), From: store.StatusRunning,
				To: store.StatusUnknown, Node: params.Node, Attempt: job.Attempt, Detail: storeutil.ExpiryDetail(job, lease)})
			if err != nil {
				return err
			}
			changes = append(changes, store.Change{Job: job, Event: ev})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: expire leases: %w", err)
	}
	return changes, nil
}

// ReleaseLeases ends params.Node's leases at Now (never extending one).
func (s *Store) ReleaseLeases(ctx context.Context, params store.ReleaseLeasesParams) ([]store.Job, error) {
	if params.Node == "" {
		return nil, fmt.Errorf("sqlite: release leases: Node is required: %w", store.ErrInvalid)
	}
	now, err := storeutil.Nanos("Now", params.Now)
	if err != nil {
		return nil, fmt.Errorf("sqlite: release leases: %w", err)
	}
	var jobs []store.Job
	err = s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE jobs SET lease_until = min(lease_until, ?1), updated_at = ?1
			WHERE status = 'running' AND node = ?2 RETURNING `+jobColumns, now, params.Node)
		jobs, err = collect(rows, err, scanJob)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: release leases: %w", err)
	}
	slices.SortFunc(jobs, func(a, b store.Job) int { return cmp.Compare(a.ID, b.ID) })
	return jobs, nil
}
