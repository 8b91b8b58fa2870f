package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

// PruneJobs deletes one batch of old terminal jobs (see store.Store) in one
// write transaction. SQLite has one writer, so fires queue behind the
// batch: callers keep Limit small (a thousand jobs is milliseconds). The
// foreign keys would cascade the deletes; the dependents are deleted
// explicitly first so they can be counted.
func (s *Store) PruneJobs(ctx context.Context, p store.PruneParams) (store.PruneResult, error) {
	var res store.PruneResult
	if err := p.Validate(); err != nil {
		return res, fmt.Errorf("sqlite: %w", err)
	}
	deadBefore := int64(math.MinInt64)
	if !p.DeadBefore.IsZero() {
		deadBefore = p.DeadBefore.UnixNano()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM jobs
			WHERE status IN (`+store.TerminalOrDead+`) AND updated_at < ? AND (status <> 'dead' OR updated_at < ?)
			ORDER BY updated_at, id LIMIT ?`, p.Before.UnixNano(), deadBefore, p.Limit)
		if err != nil {
			return interpretError(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return interpretError(err)
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			return interpretError(err)
		}
		if len(ids) == 0 {
			return nil
		}
		list, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		for _, d := range []struct {
			n     *int
			table string
			col   string
		}{
			{&res.Events, "job_events", "job_id"},
			{&res.Snapshots, "metrics_snapshots", "job_id"},
			{&res.Tasks, "metrics_tasks", "job_id"},
			{&res.Jobs, "jobs", "id"},
		} {
			r, err := tx.ExecContext(ctx, `DELETE FROM `+d.table+` WHERE `+d.col+` IN (SELECT value FROM json_each(?))`, string(list))
			if err != nil {
				return interpretError(err)
			}
			n, err := r.RowsAffected()
			if err != nil {
				return interpretError(err)
			}
			*d.n = int(n)
		}
		return nil
	})
	if err != nil {
		return store.PruneResult{}, fmt.Errorf("sqlite: prune jobs: %w", err)
	}
	return res, nil
}

// JobStats counts the jobs exactly: SQLite counts from the smallest index
// (a few hundred milliseconds for ten million jobs), and a single node's
// store is rarely that big.
func (s *Store) JobStats(ctx context.Context) (store.JobStats, error) {
	var (
		st     store.JobStats
		oldest sql.NullInt64
	)
	// Two statements: min alone is one index probe, with count(*) a scan.
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM jobs`).Scan(&st.Jobs)
	if err == nil {
		err = s.r.QueryRowContext(ctx, `SELECT min(planned_at) FROM jobs`).Scan(&oldest)
	}
	if err != nil {
		return st, fmt.Errorf("sqlite: job stats: %w", interpretError(err))
	}
	if oldest.Valid {
		st.OldestPlannedAt = storeutil.Time(oldest.Int64)
	}
	return st, nil
}
