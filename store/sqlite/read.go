package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

const jobColumns = `id, schedule_id, planned_at, due_at, status, attempt, run, trigger_kind,
	correlation_id, node, lease_until, post_ids, last_error, dead_reason, created_at, updated_at, failures`

const eventColumns = `id, job_id, at, from_status, to_status, node, attempt, detail`

type scanner interface{ Scan(dest ...any) error }

func scanJob(row scanner) (store.Job, error) {
	var (
		j                              store.Job
		planned, due, created, updated int64
		lease                          sql.NullInt64
		status, trigger, postIDs       string
	)
	err := row.Scan(&j.ID, &j.ScheduleID, &planned, &due, &status, &j.Attempt, &j.Run, &trigger,
		&j.CorrelationID, &j.Node, &lease, &postIDs, &j.LastError, &j.DeadReason, &created, &updated, &j.Failures)
	if err != nil {
		return j, interpretError(err)
	}
	j.PlannedAt, j.DueAt = storeutil.Time(planned), storeutil.Time(due)
	j.CreatedAt, j.UpdatedAt = storeutil.Time(created), storeutil.Time(updated)
	j.Status, j.Trigger = store.Status(status), store.Trigger(trigger)
	if lease.Valid {
		j.LeaseUntil = storeutil.Time(lease.Int64)
	}
	if err := json.Unmarshal([]byte(postIDs), &j.PostIDs); err != nil {
		return j, fmt.Errorf("job %d: post_ids: %w", j.ID, err)
	}
	if len(j.PostIDs) == 0 {
		j.PostIDs = nil // as the Postgres store returns it
	}
	return j, nil
}

func scanEvent(row scanner) (store.Event, error) {
	var (
		e        store.Event
		at       int64
		from, to string
	)
	if err := row.Scan(&e.ID, &e.JobID, &at, &from, &to, &e.Node, &e.Attempt, &e.Detail); err != nil {
		return e, interpretError(err)
	}
	e.At, e.From, e.To = storeutil.Time(at), store.Status(from), store.Status(to)
	return e, nil
}

func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, interpretError(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, interpretError(rows.Err())
}

// GetJob returns one job, or store.ErrNotFound.
func (s *Store) GetJob(ctx context.Context, id int64) (store.Job, error) {
	j, err := scanJob(s.r.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if err != nil {
		return j, fmt.Errorf("sqlite: get job %d: %w", id, err)
	}
	return j, nil
}

// ListJobs pages jobs by (planned_at, id).
func (s *Store) ListJobs(ctx context.Context, params store.ListJobsParams) (store.JobPage, error) {
	l, err := storeutil.CheckListJobs(params)
	if err != nil {
		return store.JobPage{}, err
	}
	var (
		where []string
		args  []any
	)
	if l.ScheduleID != "" {
		where, args = append(where, "schedule_id = ?"), append(args, l.ScheduleID)
	}
	if len(l.Statuses) > 0 {
		where = append(where, "status IN (?"+strings.Repeat(", ?", len(l.Statuses)-1)+")")
		for _, st := range l.Statuses {
			args = append(args, st)
		}
	}
	if l.HasFrom {
		where, args = append(where, "planned_at >= ?"), append(args, l.From)
	}
	if l.HasTo {
		where, args = append(where, "planned_at < ?"), append(args, l.To)
	}
	if l.HasAfter {
		where, args = append(where, "(planned_at, id) > (?, ?)"), append(args, l.After.PlannedAt, l.After.ID)
	}
	q := `SELECT ` + jobColumns + ` FROM jobs`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY planned_at, id LIMIT ?`
	args = append(args, l.Limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	jobs, err := collect(rows, err, scanJob)
	if err != nil {
		return store.JobPage{}, fmt.Errorf("sqlite: list jobs: %w", err)
	}
	page := store.JobPage{Jobs: jobs}
	if len(jobs) > 0 {
		page.NextPageToken = storeutil.NextPage(len(jobs), l.Limit, jobs[len(jobs)-1])
	}
	return page, nil
}

// JobEvents returns one job's events, oldest first.
func (s *Store) JobEvents(ctx context.Context, jobID int64) ([]store.Event, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+eventColumns+` FROM job_events WHERE job_id = ? ORDER BY id`, jobID)
	events, err := collect(rows, err, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("sqlite: job %d events: %w", jobID, err)
	}
	return events, nil
}

// ListEvents reads the event log after an ID. With a single writer, IDs are
// assigned in commit order, so the stream never skips one.
func (s *Store) ListEvents(ctx context.Context, params store.ListEventsParams) ([]store.Event, error) {
	limit := storeutil.Limit(params.Limit, storeutil.DefaultPage, storeutil.MaxPage)
	rows, err := s.r.QueryContext(ctx, `SELECT `+eventColumns+` FROM job_events WHERE id > ? ORDER BY id LIMIT ?`, params.AfterID, limit)
	events, err := collect(rows, err, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list events: %w", err)
	}
	return events, nil
}

// LatestFires reads the per-schedule counters, passing the IDs as one JSON
// array so 100,000 schedules are still one statement.
func (s *Store) LatestFires(ctx context.Context, scheduleIDs []string) (map[string]store.Fire, error) {
	out := make(map[string]store.Fire)
	if len(scheduleIDs) == 0 {
		return out, nil
	}
	ids, err := json.Marshal(scheduleIDs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: latest fires: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT schedule_id, last_run, last_planned_at FROM schedule_fires
		WHERE schedule_id IN (SELECT value FROM json_each(?))`, string(ids))
	if err != nil {
		return nil, fmt.Errorf("sqlite: latest fires: %w", interpretError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id      string
			f       store.Fire
			planned sql.NullInt64
		)
		if err := rows.Scan(&id, &f.Run, &planned); err != nil {
			return nil, fmt.Errorf("sqlite: latest fires: %w", interpretError(err))
		}
		if planned.Valid {
			f.PlannedAt = storeutil.Time(planned.Int64)
		}
		out[id] = f
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: latest fires: %w", interpretError(err))
	}
	return out, nil
}

// LatestEventID reads the greatest event ID (the primary key's index
// answers it).
func (s *Store) LatestEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM job_events`).Scan(&id); err != nil {
		return 0, fmt.Errorf("sqlite: latest event id: %w", err)
	}
	return id, nil
}
