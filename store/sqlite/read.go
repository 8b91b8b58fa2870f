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

const jobColumns = jobColumnsToPost + `, post, send_floor, first_sent_at, revision, fired_by`

// jobColumnsToPost are the job columns before post (those after it are
// post, send_floor, first_sent_at, revision and fired_by): a statement that knows
// the post (it just wrote it) reads NULL in its place and sets it from what
// it wrote, rather than decode it back.
const jobColumnsToPost = `id, schedule_id, planned_at, due_at, status, attempt, run, trigger_kind,
	correlation_id, node, lease_until, post_ids, last_error, dead_reason, created_at, updated_at, failures`

const eventColumns = `id, job_id, at, from_status, to_status, node, attempt, detail`

type scanner interface{ Scan(dest ...any) error }

func scanJob(row scanner) (store.Job, error) {
	var (
		j                              store.Job
		planned, due, created, updated int64
		lease, floor, sent             sql.NullInt64
		status, trigger, postIDs       string
		post                           []byte
	)
	err := row.Scan(&j.ID, &j.ScheduleID, &planned, &due, &status, &j.Attempt, &j.Run, &trigger,
		&j.CorrelationID, &j.Node, &lease, &postIDs, &j.LastError, &j.DeadReason, &created, &updated, &j.Failures,
		&post, &floor, &sent, &j.Revision, &j.FiredBy)
	if err != nil {
		return j, interpretError(err)
	}
	j.PlannedAt, j.DueAt = storeutil.Time(planned), storeutil.Time(due)
	j.CreatedAt, j.UpdatedAt = storeutil.Time(created), storeutil.Time(updated)
	j.Status, j.Trigger = store.Status(status), store.Trigger(trigger)
	if lease.Valid {
		j.LeaseUntil = storeutil.Time(lease.Int64)
	}
	if floor.Valid {
		j.SendFloor = storeutil.Time(floor.Int64)
	}
	if sent.Valid {
		j.FirstSentAt = storeutil.Time(sent.Int64)
	}
	if j.Post, err = storeutil.DecodePost(post); err != nil {
		return j, fmt.Errorf("job %d: %w", j.ID, err)
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

// scanAllMin is the fewest IDs for which LatestFires considers reading the
// whole table instead of looking each ID up.
const scanAllMin = 10_000

// LatestFires reads the per-schedule counters, passing the IDs as one JSON
// array so 100,000 schedules are still one statement. For many IDs naming a
// good part of the table (at least a quarter of its rows), it reads the
// whole table and keeps the rows named: SQLite looks 1,000,000 IDs up in
// 3.4 s of CPU on the 2-core test machine, where the scan with a set lookup
// per row takes about half that (BenchmarkFires1M).
func (s *Store) LatestFires(ctx context.Context, scheduleIDs []string) (map[string]store.Fire, error) {
	if len(scheduleIDs) == 0 {
		return make(map[string]store.Fire), nil
	}
	if len(scheduleIDs) >= scanAllMin {
		n, err := s.countFires(ctx)
		if err != nil {
			return nil, fmt.Errorf("sqlite: latest fires: %w", err)
		}
		if n <= 4*len(scheduleIDs) {
			return s.latestFiresByScan(ctx, scheduleIDs, n)
		}
	}
	ids, err := json.Marshal(scheduleIDs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: latest fires: %w", err)
	}
	out := make(map[string]store.Fire)
	rows, err := s.r.QueryContext(ctx, `SELECT schedule_id, last_run, last_planned_at FROM schedule_fires
		WHERE schedule_id IN (SELECT value FROM json_each(?))`, string(ids))
	if err := eachFire(rows, err, func(id string, f store.Fire) { out[id] = f }); err != nil {
		return nil, fmt.Errorf("sqlite: latest fires: %w", err)
	}
	return out, nil
}

// latestFiresByScan reads every row and keeps those of scheduleIDs.
func (s *Store) latestFiresByScan(ctx context.Context, scheduleIDs []string, n int) (map[string]store.Fire, error) {
	want := make(map[string]struct{}, len(scheduleIDs))
	for _, id := range scheduleIDs {
		want[id] = struct{}{}
	}
	out := make(map[string]store.Fire, min(len(want), n, maxSizeHint))
	rows, err := s.r.QueryContext(ctx, `SELECT schedule_id, last_run, last_planned_at FROM schedule_fires`)
	err = eachFire(rows, err, func(id string, f store.Fire) {
		if _, ok := want[id]; ok {
			out[id] = f
		}
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: latest fires: %w", err)
	}
	return out, nil
}

// AllLatestFires reads the whole table in one scan, into a map sized from
// its row count rather than grown step by step (in the Postgres store,
// sizing it halved the CPU of reading 1,000,000 rows).
func (s *Store) AllLatestFires(ctx context.Context) (map[string]store.Fire, error) {
	n, err := s.countFires(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: all latest fires: %w", err)
	}
	out := make(map[string]store.Fire, min(n, maxSizeHint))
	rows, err := s.r.QueryContext(ctx, `SELECT schedule_id, last_run, last_planned_at FROM schedule_fires`)
	if err := eachFire(rows, err, func(id string, f store.Fire) { out[id] = f }); err != nil {
		return nil, fmt.Errorf("sqlite: all latest fires: %w", err)
	}
	return out, nil
}

// maxSizeHint caps the size a map is made with from countFires: a rowid set
// by hand must not make one of a billion entries.
const maxSizeHint = 1 << 24

// countFires returns the number of schedule_fires rows, near enough to size
// a map and choose a plan. Its rows are never deleted and their rowids are
// assigned in sequence, so the greatest rowid is the count, read from the
// b-tree's last page: count(*) reads every page (40 ms for 1,000,000 rows).
func (s *Store) countFires(ctx context.Context) (int, error) {
	var n sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT max(rowid) FROM schedule_fires`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rows: %w", interpretError(err))
	}
	return int(max(n.Int64, 0)), nil
}

// eachFire calls fn with each row of (schedule_id, last_run,
// last_planned_at).
func eachFire(rows *sql.Rows, err error, fn func(id string, f store.Fire)) error {
	if err != nil {
		return interpretError(err)
	}
	defer rows.Close()
	var (
		id      string
		run     int64
		planned sql.NullInt64
	)
	for rows.Next() {
		if err := rows.Scan(&id, &run, &planned); err != nil {
			return interpretError(err)
		}
		f := store.Fire{Run: run}
		if planned.Valid {
			f.PlannedAt = storeutil.Time(planned.Int64)
		}
		fn(id, f)
	}
	return interpretError(rows.Err())
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
