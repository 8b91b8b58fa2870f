package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

// Heartbeat upserts the node's row, and forgets long-silent nodes.
func (s *Store) Heartbeat(ctx context.Context, params store.HeartbeatParams) error {
	h, err := storeutil.CheckHeartbeat(params)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO nodes (id, address, version, revision, started_at, last_seen, dry_run,
			redis_health, store_health, in_flight) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET address = excluded.address, version = excluded.version, revision = excluded.revision,
				started_at = excluded.started_at, last_seen = excluded.last_seen, dry_run = excluded.dry_run,
				redis_health = excluded.redis_health, store_health = excluded.store_health, in_flight = excluded.in_flight`,
			h.ID, h.Address, h.Version, h.Revision, h.StartedN, h.NowN, h.DryRun, h.RedisHealth, h.StoreHealth, h.InFlight)
		if err != nil || h.ForgetN == 0 {
			return interpretError(err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM nodes WHERE last_seen < ? AND id <> ?`, h.ForgetN, h.ID)
		return interpretError(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: heartbeat of %s: %w", h.ID, err)
	}
	return nil
}

// RemoveNode deletes a node's row.
func (s *Store) RemoveNode(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM nodes WHERE id = ?`, id)
		return interpretError(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: remove node %s: %w", id, err)
	}
	return nil
}

// ListNodes returns every node, by ID.
func (s *Store) ListNodes(ctx context.Context) ([]store.Node, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+storeutil.NodeColumns+` FROM nodes ORDER BY id`)
	nodes, err := collect(rows, err, func(row scanner) (store.Node, error) {
		n, err := storeutil.ScanNode(row.Scan)
		return n, interpretError(err)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list nodes: %w", err)
	}
	return nodes, nil
}

// Pause upserts a schedule's pause.
func (s *Store) Pause(ctx context.Context, params store.PauseParams) error {
	p, err := storeutil.CheckPause(params)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pauses (schedule_id, note, at, until_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (schedule_id) DO UPDATE SET note = excluded.note, at = excluded.at, until_at = excluded.until_at`,
			p.ScheduleID, p.Note, p.AtN, p.UntilN)
		if err != nil {
			return interpretError(err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM pauses WHERE until_at <= ?`, p.AtN) // expired
		return interpretError(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: pause %s: %w", p.ScheduleID, err)
	}
	return nil
}

// Resume deletes a schedule's pause.
func (s *Store) Resume(ctx context.Context, scheduleID string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM pauses WHERE schedule_id = ?`, scheduleID)
		return interpretError(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: resume %s: %w", scheduleID, err)
	}
	return nil
}

// ListPauses returns the pauses in force at params.Now. Expired ones are
// deleted by the next Pause: a read takes no write lock.
func (s *Store) ListPauses(ctx context.Context, params store.ListPausesParams) ([]store.Pause, error) {
	now, err := storeutil.Nanos("list pauses: Now", params.Now)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT schedule_id, note, at, until_at FROM pauses
		WHERE until_at IS NULL OR until_at > ? ORDER BY schedule_id`, now)
	pauses, err := collect(rows, err, func(row scanner) (store.Pause, error) {
		var (
			id, note string
			at       int64
			until    sql.NullInt64
		)
		err := row.Scan(&id, &note, &at, &until)
		var u *int64
		if until.Valid {
			u = &until.Int64
		}
		return storeutil.ScanPause(id, note, at, u), interpretError(err)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list pauses: %w", err)
	}
	return pauses, nil
}
