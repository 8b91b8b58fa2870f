package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

// lockClassPrune is the advisory lock class that lets one node prune at a
// time (second half: the schema's key, as for the write lock).
const lockClassPrune int32 = 0x48525031 // "HRP1"

// PruneJobs deletes one batch of old terminal jobs (see store.Store).
//
// It does not take the write lock: that lock orders the commits of new
// event IDs, and pruning inserts none; the rows it deletes are terminal
// jobs (and old dead letters), which no fire, claim or lease writes. Taking
// it would make every fire wait for the batch. Instead the batch locks the
// jobs it deletes with SKIP LOCKED, so a dead letter an operator is
// retrying at that moment is left alone (and re-checked under the lock),
// and a transaction-level advisory lock of its own, tried and never
// waited for, keeps a second node from pruning alongside (Skipped).
// lock_timeout bounds any wait on a row another writer holds (a metrics
// task being completed), so a batch never stalls behind one.
func (s *Store) PruneJobs(ctx context.Context, p store.PruneParams) (store.PruneResult, error) {
	var res store.PruneResult
	if err := p.Validate(); err != nil {
		return res, fmt.Errorf("postgres: %w", err)
	}
	deadBefore := int64(math.MinInt64)
	if !p.DeadBefore.IsZero() {
		deadBefore = p.DeadBefore.UnixNano()
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var got bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1, $2)`, lockClassPrune, s.lockKey).Scan(&got); err != nil {
			return err
		}
		if !got {
			res.Skipped = true
			return nil
		}
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '5s'`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM jobs
			WHERE status IN (`+store.TerminalOrDead+`) AND updated_at < $1 AND (status <> 'dead' OR updated_at < $2)
			ORDER BY updated_at, id LIMIT $3 FOR UPDATE SKIP LOCKED`, p.Before.UnixNano(), deadBefore, p.Limit)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(ids) == 0 {
			return err
		}
		for _, d := range []struct {
			n *int
			q string
		}{
			{&res.Events, `DELETE FROM job_events WHERE job_id = ANY($1::bigint[])`},
			{&res.Snapshots, `DELETE FROM metrics_snapshots WHERE job_id = ANY($1::bigint[])`},
			{&res.Tasks, `DELETE FROM metrics_tasks WHERE job_id = ANY($1::bigint[])`},
			{&res.Jobs, `DELETE FROM jobs WHERE id = ANY($1::bigint[])`},
		} {
			tag, err := tx.Exec(ctx, d.q, ids)
			if err != nil {
				return err
			}
			*d.n = int(tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		return store.PruneResult{}, fmt.Errorf("postgres: prune jobs: %w", interpretError(err))
	}
	return res, nil
}

// JobStats reads the planner's row estimate of jobs (pg_class.reltuples,
// kept by autovacuum and ANALYZE) rather than count(*), which reads every
// row: seconds on millions of jobs, for a status page. A table never
// analysed (-1 since Postgres 14) is small: it is counted exactly.
func (s *Store) JobStats(ctx context.Context) (store.JobStats, error) {
	var (
		st     store.JobStats
		est    float64
		oldest *int64
	)
	err := s.pool.QueryRow(ctx, `SELECT c.reltuples::float8, (SELECT min(planned_at) FROM jobs)
		FROM pg_class c WHERE c.oid = to_regclass(quote_ident($1) || '.jobs')`, s.schema).Scan(&est, &oldest)
	if err != nil {
		return st, fmt.Errorf("postgres: job stats: %w", interpretError(err))
	}
	if oldest != nil {
		st.OldestPlannedAt = storeutil.Time(*oldest)
	}
	if est >= 0 {
		st.Jobs, st.Approximate = int64(est), true
		return st, nil
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM jobs`).Scan(&st.Jobs); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return st, fmt.Errorf("postgres: job stats: %w", interpretError(err))
	}
	return st, nil
}
