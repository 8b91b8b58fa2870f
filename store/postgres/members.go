package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

// Heartbeats and pauses are single-row statements on tables no job write
// touches, so they run without the write lock: a node's heartbeat never
// queues behind a burst of fires (nor delays one), and the event order the
// lock protects is not concerned.

// Heartbeat upserts the node's row, and forgets long-silent nodes.
func (s *Store) Heartbeat(ctx context.Context, params store.HeartbeatParams) error {
	h, err := storeutil.CheckHeartbeat(params)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO nodes (id, address, version, revision, started_at, last_seen, dry_run, redis_health, store_health, in_flight)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO UPDATE SET address = excluded.address, version = excluded.version, revision = excluded.revision,
			started_at = excluded.started_at, last_seen = excluded.last_seen, dry_run = excluded.dry_run,
			redis_health = excluded.redis_health, store_health = excluded.store_health, in_flight = excluded.in_flight`,
		h.ID, h.Address, h.Version, h.Revision, h.StartedN, h.NowN, h.DryRun, h.RedisHealth, h.StoreHealth, h.InFlight)
	if h.ForgetN != 0 {
		b.Queue(`DELETE FROM nodes WHERE last_seen < $1 AND id <> $2`, h.ForgetN, h.ID)
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: heartbeat of %s: %w", h.ID, interpretError(err))
	}
	return nil
}

// RemoveNode deletes a node's row.
func (s *Store) RemoveNode(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM nodes WHERE id = $1`, id); err != nil {
		return fmt.Errorf("postgres: remove node %s: %w", id, interpretError(err))
	}
	return nil
}

// ListNodes returns every node, by ID.
func (s *Store) ListNodes(ctx context.Context) ([]store.Node, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+storeutil.NodeColumns+` FROM nodes ORDER BY id`)
	nodes, err := collect(rows, err, func(row pgx.Row) (store.Node, error) {
		n, err := storeutil.ScanNode(row.Scan)
		return n, interpretError(err)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list nodes: %w", err)
	}
	return nodes, nil
}

// Pause upserts a schedule's pause.
func (s *Store) Pause(ctx context.Context, params store.PauseParams) error {
	p, err := storeutil.CheckPause(params)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO pauses (schedule_id, note, at, until_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (schedule_id) DO UPDATE SET note = excluded.note, at = excluded.at, until_at = excluded.until_at`,
		p.ScheduleID, p.Note, p.AtN, p.UntilN)
	if err != nil {
		return fmt.Errorf("postgres: pause %s: %w", p.ScheduleID, interpretError(err))
	}
	return nil
}

// Resume deletes a schedule's pause.
func (s *Store) Resume(ctx context.Context, scheduleID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM pauses WHERE schedule_id = $1`, scheduleID); err != nil {
		return fmt.Errorf("postgres: resume %s: %w", scheduleID, interpretError(err))
	}
	return nil
}

// ListPauses deletes the pauses expired at params.Now and returns the
// others, in one round trip.
func (s *Store) ListPauses(ctx context.Context, params store.ListPausesParams) ([]store.Pause, error) {
	now, err := storeutil.Nanos("list pauses: Now", params.Now)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	rows, err := s.pool.Query(ctx, `WITH gone AS (DELETE FROM pauses WHERE until_at <= $1)
		SELECT schedule_id, note, at, until_at FROM pauses WHERE until_at IS NULL OR until_at > $1 ORDER BY schedule_id`, now)
	pauses, err := collect(rows, err, func(row pgx.Row) (store.Pause, error) {
		var (
			id, note string
			at       int64
			until    *int64
		)
		err := row.Scan(&id, &note, &at, &until)
		return storeutil.ScanPause(id, note, at, until), interpretError(err)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list pauses: %w", err)
	}
	return pauses, nil
}
