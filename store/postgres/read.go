package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

var jobColumnNames = []string{"id", "schedule_id", "planned_at", "due_at", "status", "attempt", "run", "trigger_kind",
	"correlation_id", "node", "lease_until", "post_ids", "last_error", "dead_reason", "created_at", "updated_at", "failures",
	"post", "send_floor", "first_sent_at", "revision", "fired_by"}

// jobColumns lists the job columns, each prefixed (for example "j.").
func jobColumns(prefix string) string {
	return prefix + strings.Join(jobColumnNames, ", "+prefix)
}

const eventColumns = `id, job_id, at, from_status, to_status, node, attempt, detail`

// jobDest returns scan destinations for the job columns and a function that
// finishes the job after the scan (it fails on a post it cannot decode).
func jobDest(j *store.Job) ([]any, func() error) {
	var (
		planned, due, created, updated int64
		lease, floor, sent             *int64
		status, trigger                string
		post                           []byte
	)
	dest := []any{&j.ID, &j.ScheduleID, &planned, &due, &status, &j.Attempt, &j.Run, &trigger,
		&j.CorrelationID, &j.Node, &lease, &j.PostIDs, &j.LastError, &j.DeadReason, &created, &updated, &j.Failures,
		&post, &floor, &sent, &j.Revision, &j.FiredBy}
	return dest, func() error {
		j.PlannedAt, j.DueAt = storeutil.Time(planned), storeutil.Time(due)
		j.CreatedAt, j.UpdatedAt = storeutil.Time(created), storeutil.Time(updated)
		j.Status, j.Trigger = store.Status(status), store.Trigger(trigger)
		j.LeaseUntil, j.SendFloor, j.FirstSentAt = storeutil.OptTime(lease), storeutil.OptTime(floor), storeutil.OptTime(sent)
		if len(j.PostIDs) == 0 {
			j.PostIDs = nil
		}
		var err error
		if j.Post, err = storeutil.DecodePost(post); err != nil {
			return fmt.Errorf("job %d: %w", j.ID, err)
		}
		return nil
	}
}

// scanJob scans a row of exactly the job columns.
func scanJob(row pgx.Row) (store.Job, error) {
	var j store.Job
	dest, finish := jobDest(&j)
	if err := row.Scan(dest...); err != nil {
		return j, interpretError(err)
	}
	return j, finish()
}

func scanEvent(row pgx.Row) (store.Event, error) {
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

func collect[T any](rows pgx.Rows, err error, scan func(pgx.Row) (T, error)) ([]T, error) {
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
	j, err := scanJob(s.pool.QueryRow(ctx, `SELECT `+jobColumns("")+` FROM jobs WHERE id = $1`, id))
	if err != nil {
		return j, fmt.Errorf("postgres: get job %d: %w", id, err)
	}
	return j, nil
}

// ListJobs pages jobs by (planned_at, id), with only the filters in use in
// the SQL so the planner sees plain predicates.
func (s *Store) ListJobs(ctx context.Context, params store.ListJobsParams) (store.JobPage, error) {
	l, err := storeutil.CheckListJobs(params)
	if err != nil {
		return store.JobPage{}, err
	}
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if l.ScheduleID != "" {
		where = append(where, "schedule_id = "+arg(l.ScheduleID))
	}
	if len(l.Statuses) > 0 {
		where = append(where, "status = ANY("+arg(l.Statuses)+"::text[])")
	}
	if l.HasFrom {
		where = append(where, "planned_at >= "+arg(l.From))
	}
	if l.HasTo {
		where = append(where, "planned_at < "+arg(l.To))
	}
	if l.HasAfter {
		where = append(where, "(planned_at, id) > ("+arg(l.After.PlannedAt)+"::bigint, "+arg(l.After.ID)+"::bigint)")
	}
	q := `SELECT ` + jobColumns("") + ` FROM jobs`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY planned_at, id LIMIT ` + arg(l.Limit)
	rows, err := s.pool.Query(ctx, q, args...)
	jobs, err := collect(rows, err, scanJob)
	if err != nil {
		return store.JobPage{}, fmt.Errorf("postgres: list jobs: %w", err)
	}
	page := store.JobPage{Jobs: jobs}
	if len(jobs) > 0 {
		page.NextPageToken = storeutil.NextPage(len(jobs), l.Limit, jobs[len(jobs)-1])
	}
	return page, nil
}

// JobEvents returns one job's events, oldest first.
func (s *Store) JobEvents(ctx context.Context, jobID int64) ([]store.Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM job_events WHERE job_id = $1 ORDER BY id`, jobID)
	events, err := collect(rows, err, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("postgres: job %d events: %w", jobID, err)
	}
	return events, nil
}

// ListEvents reads the event log after an ID. Writers hold the schema's
// write lock until they commit, so IDs become visible in order and the
// stream never skips one.
func (s *Store) ListEvents(ctx context.Context, params store.ListEventsParams) ([]store.Event, error) {
	limit := storeutil.Limit(params.Limit, storeutil.DefaultPage, storeutil.MaxPage)
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM job_events WHERE id > $1 ORDER BY id LIMIT $2`, params.AfterID, limit)
	events, err := collect(rows, err, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("postgres: list events: %w", err)
	}
	return events, nil
}

// scanAllMin is the fewest IDs for which LatestFires considers reading the
// whole table instead: below it the extra round trip for the table's size
// is not worth asking.
const scanAllMin = 10_000

// LatestFires reads the per-schedule counters in one query. For many IDs
// naming a good part of the table (at least a quarter of its estimated
// rows), it reads the whole table and keeps the rows named: 1,000,000 IDs
// through = ANY are a million index probes (4.4 s on the 2-core test
// machine), where the sequential scan with a set lookup per row takes about
// 1.2 s (BenchmarkFires1M).
func (s *Store) LatestFires(ctx context.Context, scheduleIDs []string) (map[string]store.Fire, error) {
	if len(scheduleIDs) == 0 {
		return make(map[string]store.Fire), nil
	}
	if len(scheduleIDs) >= scanAllMin {
		est, err := s.estimateFires(ctx)
		if err != nil {
			return nil, fmt.Errorf("postgres: latest fires: %w", err)
		}
		// An unknown estimate (a table never analysed) keeps the index
		// path, whose cost is bounded by the IDs, not by the table.
		if est >= 0 && est <= 4*len(scheduleIDs) {
			return s.latestFiresByScan(ctx, scheduleIDs, est)
		}
	}
	out := make(map[string]store.Fire)
	rows, err := s.pool.Query(ctx, `SELECT schedule_id, last_run, last_planned_at FROM schedule_fires
		WHERE schedule_id = ANY($1::text[])`, scheduleIDs)
	if err := eachFire(rows, err, func(id []byte, f store.Fire) { out[string(id)] = f }); err != nil {
		return nil, fmt.Errorf("postgres: latest fires: %w", err)
	}
	return out, nil
}

// latestFiresByScan reads every row and keeps those of scheduleIDs. The
// kept keys are the caller's own strings, so a skipped row allocates
// nothing and a kept one no new key.
func (s *Store) latestFiresByScan(ctx context.Context, scheduleIDs []string, est int) (map[string]store.Fire, error) {
	want := make(map[string]int, len(scheduleIDs))
	for i, id := range scheduleIDs {
		want[id] = i
	}
	out := make(map[string]store.Fire, min(len(want), est))
	rows, err := s.pool.Query(ctx, `SELECT schedule_id, last_run, last_planned_at FROM schedule_fires`)
	err = eachFire(rows, err, func(id []byte, f store.Fire) {
		if i, ok := want[string(id)]; ok {
			out[scheduleIDs[i]] = f
		}
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: latest fires: %w", err)
	}
	return out, nil
}

// AllLatestFires reads the whole table in one sequential scan, into a map
// sized from the planner's row estimate: growing the map to 1,000,000
// entries instead doubles the CPU time of the whole read.
func (s *Store) AllLatestFires(ctx context.Context) (map[string]store.Fire, error) {
	est, err := s.estimateFires(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: all latest fires: %w", err)
	}
	out := make(map[string]store.Fire, max(est, 0))
	rows, err := s.pool.Query(ctx, `SELECT schedule_id, last_run, last_planned_at FROM schedule_fires`)
	if err := eachFire(rows, err, func(id []byte, f store.Fire) { out[string(id)] = f }); err != nil {
		return nil, fmt.Errorf("postgres: all latest fires: %w", err)
	}
	return out, nil
}

// estimateFires returns the planner's estimate of schedule_fires' rows
// (kept by VACUUM, ANALYZE and autovacuum; free to read, unlike count(*)
// which scans), or -1 when the table was never analysed.
func (s *Store) estimateFires(ctx context.Context) (int, error) {
	var est float64
	if err := s.pool.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'schedule_fires'::regclass`).Scan(&est); err != nil {
		return 0, fmt.Errorf("estimate rows: %w", interpretError(err))
	}
	if est < 0 {
		return -1, nil
	}
	return int(est), nil
}

// eachFire calls fn with each row of (schedule_id, last_run,
// last_planned_at), decoding the columns' raw bytes itself: pgx's generic
// Scan allocates once more per row (1,000,000 rows: 48 MB more garbage,
// about a tenth more CPU). id is valid only during the call.
func eachFire(rows pgx.Rows, err error, fn func(id []byte, f store.Fire)) error {
	if err != nil {
		return interpretError(err)
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	if len(fds) != 3 {
		return fmt.Errorf("%d columns, want 3", len(fds))
	}
	for rows.Next() {
		raw := rows.RawValues()
		if raw[0] == nil || raw[1] == nil {
			return errors.New("null schedule_id or last_run")
		}
		run, err := decodeInt8(raw[1], fds[1].Format)
		if err != nil {
			return fmt.Errorf("last_run: %w", err)
		}
		f := store.Fire{Run: run}
		if raw[2] != nil {
			planned, err := decodeInt8(raw[2], fds[2].Format)
			if err != nil {
				return fmt.Errorf("last_planned_at: %w", err)
			}
			f.PlannedAt = storeutil.Time(planned)
		}
		fn(raw[0], f)
	}
	return interpretError(rows.Err())
}

// decodeInt8 decodes a bigint in either wire format.
func decodeInt8(b []byte, format int16) (int64, error) {
	if format == pgx.BinaryFormatCode {
		if len(b) != 8 {
			return 0, fmt.Errorf("binary bigint of %d bytes", len(b))
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	}
	return strconv.ParseInt(string(b), 10, 64)
}

// LatestEventID reads the greatest event ID (the primary key's index
// answers it).
func (s *Store) LatestEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM job_events`).Scan(&id); err != nil {
		return 0, fmt.Errorf("postgres: latest event id: %w", err)
	}
	return id, nil
}
