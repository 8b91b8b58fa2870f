package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

// FreezePost stores the post of a running job under the caller's lease,
// unless the job has one: the first post frozen is kept, and the job is
// then left as it was (UpdatedAt included).
func (s *Store) FreezePost(ctx context.Context, params store.FreezePostParams) (store.Job, error) {
	var job store.Job
	fr, err := storeutil.CheckFreeze(params)
	if err != nil {
		return job, fmt.Errorf("sqlite: freeze post: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		job, err = scanJob(tx.QueryRowContext(ctx, `UPDATE jobs SET
				post = COALESCE(post, ?1), updated_at = CASE WHEN post IS NULL THEN ?2 ELSE updated_at END
			WHERE id = ?3 AND status = 'running' AND node = ?4 AND attempt = ?5 RETURNING `+jobColumns,
			fr.PostJSON, fr.NowN, params.JobID, params.Node, params.Attempt))
		if errors.Is(err, store.ErrNotFound) {
			return leaseConflict(ctx, tx, params.JobID, params.Node, params.Attempt)
		}
		return err
	})
	if err != nil {
		return store.Job{}, fmt.Errorf("sqlite: freeze post: %w", err)
	}
	return job, nil
}

// RecordMedia replaces the media of a running job's frozen post under the
// caller's lease, and moves its send floor to Now. The job is read and
// written in one write transaction: nothing changes it in between.
func (s *Store) RecordMedia(ctx context.Context, params store.RecordMediaParams) (store.Job, error) {
	var job store.Job
	m, err := storeutil.CheckRecordMedia(params)
	if err != nil {
		return job, fmt.Errorf("sqlite: record media: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		held, err := scanJob(tx.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs
			WHERE id = ? AND status = 'running' AND node = ? AND attempt = ?`, params.JobID, params.Node, params.Attempt))
		if errors.Is(err, store.ErrNotFound) {
			return leaseConflict(ctx, tx, params.JobID, params.Node, params.Attempt)
		}
		if err != nil {
			return err
		}
		post, encoded, err := m.WithMedia(held)
		if err != nil {
			return err
		}
		job, err = scanJob(tx.QueryRowContext(ctx, `UPDATE jobs SET post = ?1, send_floor = ?2, updated_at = ?2
			WHERE id = ?3 RETURNING `+jobColumnsToPost+`, NULL, send_floor, first_sent_at, revision, fired_by`, encoded, m.NowN, params.JobID))
		if err != nil {
			return err
		}
		job.Post = post
		return nil
	})
	if err != nil {
		return store.Job{}, fmt.Errorf("sqlite: record media: %w", err)
	}
	return job, nil
}

// ClaimUnknown picks the unknown jobs due for a check and moves their DueAt
// to Until, in one write transaction: with the writer lock held, no other
// claimer sees them due in between.
func (s *Store) ClaimUnknown(ctx context.Context, params store.ClaimUnknownParams) ([]store.Job, error) {
	c, err := storeutil.CheckClaimUnknown(params)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	var jobs []store.Job
	err = s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM jobs WHERE status = 'unknown' AND due_at <= ?
			ORDER BY due_at, id LIMIT ?`, c.NowN, c.Limit)
		ids, err := collect(rows, err, func(r scanner) (id int64, err error) {
			err = r.Scan(&id)
			return id, err
		})
		if err != nil || len(ids) == 0 {
			return err
		}
		// updated_at stays the moment the job became unknown: how long X
		// has had to show its post is counted from it.
		update, err := tx.PrepareContext(ctx, `UPDATE jobs SET due_at = ? WHERE id = ? RETURNING `+jobColumns)
		if err != nil {
			return interpretError(err)
		}
		defer update.Close()
		jobs = make([]store.Job, len(ids))
		for i, id := range ids {
			if jobs[i], err = scanJob(update.QueryRowContext(ctx, c.UntilN, id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim unknown: %w", err)
	}
	return jobs, nil
}
