package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

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
		return job, fmt.Errorf("postgres: freeze post: %w", err)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		job, err = scanJob(tx.QueryRow(ctx, `UPDATE jobs SET
				post = coalesce(post, $1::text), updated_at = CASE WHEN post IS NULL THEN $2 ELSE updated_at END
			WHERE id = $3 AND status = 'running' AND node = $4 AND attempt = $5 RETURNING `+jobColumns(""),
			fr.PostJSON, fr.NowN, params.JobID, params.Node, params.Attempt))
		if !errors.Is(err, store.ErrNotFound) { // nil, or a failure
			return err
		}
		return leaseConflict(ctx, tx, params.JobID, params.Node, params.Attempt)
	})
	if err != nil {
		return store.Job{}, fmt.Errorf("postgres: freeze post: %w", err)
	}
	return job, nil
}

// RecordMedia replaces the media of a running job's frozen post under the
// caller's lease, and moves its send floor to Now. The job is read with a
// row lock and written in the same transaction.
func (s *Store) RecordMedia(ctx context.Context, params store.RecordMediaParams) (store.Job, error) {
	var job store.Job
	m, err := storeutil.CheckRecordMedia(params)
	if err != nil {
		return job, fmt.Errorf("postgres: record media: %w", err)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		held, err := scanJob(tx.QueryRow(ctx, `SELECT `+jobColumns("")+` FROM jobs
			WHERE id = $1 AND status = 'running' AND node = $2 AND attempt = $3 FOR UPDATE`,
			params.JobID, params.Node, params.Attempt))
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
		job, err = scanJob(tx.QueryRow(ctx, `UPDATE jobs SET post = $1::text, send_floor = $2, updated_at = $2
			WHERE id = $3 RETURNING `+jobColumns(""), encoded, m.NowN, params.JobID))
		if err != nil {
			return err
		}
		job.Post = post
		return nil
	})
	if err != nil {
		return store.Job{}, fmt.Errorf("postgres: record media: %w", err)
	}
	return job, nil
}

// ClaimUnknown picks the unknown jobs due for a check and moves their DueAt
// to Until in one statement; the row locks (SKIP LOCKED) and the write lock
// each make sure no two claimers get the same job.
func (s *Store) ClaimUnknown(ctx context.Context, params store.ClaimUnknownParams) ([]store.Job, error) {
	c, err := storeutil.CheckClaimUnknown(params)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	type claimed struct {
		store.Job
		due int64 // before the claim
	}
	var out []claimed
	err = s.write(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `WITH picked AS (
				SELECT id, due_at FROM jobs WHERE status = 'unknown' AND due_at <= $1
				ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED
			)
			UPDATE jobs j SET due_at = $2
			FROM picked p WHERE j.id = p.id
			RETURNING p.due_at, `+jobColumns("j."), c.NowN, c.UntilN, c.Limit)
		out, err = collect(rows, err, func(r pgx.Row) (cl claimed, err error) {
			dest, finish := jobDest(&cl.Job)
			if err := r.Scan(append([]any{&cl.due}, dest...)...); err != nil {
				return cl, interpretError(err)
			}
			return cl, finish()
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim unknown: %w", err)
	}
	slices.SortFunc(out, func(a, b claimed) int { return cmp.Or(cmp.Compare(a.due, b.due), cmp.Compare(a.ID, b.ID)) })
	jobs := make([]store.Job, len(out))
	for i, cl := range out {
		jobs[i] = cl.Job
	}
	return jobs, nil
}
