package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

// insertEvent records one transition; its ID comes from AUTOINCREMENT, in
// commit order because there is one writer.
func insertEvent(ctx context.Context, stmt *sql.Stmt, e store.Event) (store.Event, error) {
	err := stmt.QueryRowContext(ctx, e.JobID, e.At.UnixNano(), string(e.From), string(e.To), e.Node, e.Attempt, e.Detail).Scan(&e.ID)
	if err != nil {
		return e, fmt.Errorf("record event of job %d: %w", e.JobID, interpretError(err))
	}
	return e, nil
}

const insertEventSQL = `INSERT INTO job_events (job_id, at, from_status, to_status, node, attempt, detail)
	VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`

// counter is a schedule's row of schedule_fires, read once per batch.
type counter struct {
	lastRun     int64
	lastPlanned sql.NullInt64
	dirty       bool
}

// CreateJobs records fires, with their posts, in one transaction. The
// writer lock makes the read of each schedule's counter and the inserts
// atomic. With ClaimLeaseUntil, a new job planned and due at Now (among the
// first ClaimLimit such, in input order) is inserted already running
// (attempt 1, the node, the lease, Now as its send floor) rather than
// inserted and then updated by a claim, and its claim event is recorded
// after every creation event of the batch, in (due_at, id) order, as a
// claim would.
func (s *Store) CreateJobs(ctx context.Context, params store.CreateJobsParams) ([]store.CreateResult, error) {
	now, jobs, err := storeutil.CheckCreate(params)
	var cl storeutil.Claim
	if err == nil {
		cl, err = storeutil.CreateClaim(params)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: create jobs: %w", err)
	}
	results := make([]store.CreateResult, len(jobs))
	if len(jobs) == 0 {
		return results, nil
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		insertJob, err := tx.PrepareContext(ctx, `INSERT INTO jobs (schedule_id, planned_at, due_at, status, attempt, run,
			trigger_kind, correlation_id, node, lease_until, created_at, updated_at, post, send_floor, revision, fired_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (schedule_id, planned_at) DO NOTHING RETURNING `+jobColumnsToPost+`, NULL, send_floor, first_sent_at, revision, fired_by`)
		if err != nil {
			return interpretError(err)
		}
		defer insertJob.Close()
		existing, err := tx.PrepareContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE schedule_id = ? AND planned_at = ?`)
		if err != nil {
			return interpretError(err)
		}
		defer existing.Close()
		readCounter, err := tx.PrepareContext(ctx, `SELECT last_run, last_planned_at FROM schedule_fires WHERE schedule_id = ?`)
		if err != nil {
			return interpretError(err)
		}
		defer readCounter.Close()
		event, err := tx.PrepareContext(ctx, insertEventSQL)
		if err != nil {
			return interpretError(err)
		}
		defer event.Close()

		counters := make(map[string]*counter)
		var order []string // schedules in first-seen order, for deterministic writes
		var claimed []int  // the results inserted running
		for i, nj := range jobs {
			c := counters[nj.ScheduleID]
			if c == nil {
				c = &counter{}
				err := readCounter.QueryRowContext(ctx, nj.ScheduleID).Scan(&c.lastRun, &c.lastPlanned)
				if err != nil && err != sql.ErrNoRows {
					return interpretError(err)
				}
				counters[nj.ScheduleID] = c
				order = append(order, nj.ScheduleID)
			}
			status, attempt, node, lease, floor := nj.Status, 0, "", sql.NullInt64{}, sql.NullInt64{}
			claim := !params.ClaimLeaseUntil.IsZero() && len(claimed) < cl.Limit && nj.Status == store.StatusPlanned && nj.DueAt <= now
			if claim {
				status, attempt, node = store.StatusRunning, 1, params.Node
				lease, floor = sql.NullInt64{Int64: cl.LeaseUntilN, Valid: true}, sql.NullInt64{Int64: now, Valid: true}
			}
			if p, js := storeutil.RenderPost(nj.NewJob, c.lastRun+1); p != nil {
				nj.Post, nj.PostJSON = p, js
			}
			post := sql.NullString{String: nj.PostJSON, Valid: nj.PostJSON != ""}
			job, err := scanJob(insertJob.QueryRowContext(ctx, nj.ScheduleID, nj.PlannedAt, nj.DueAt, string(status), attempt,
				c.lastRun+1, string(nj.Trigger), nj.CorrelationID, node, lease, now, now, post, floor, nj.Revision, params.Node))
			if err == nil {
				job.Post = nj.Post
				c.lastRun, c.dirty = job.Run, true
				if nj.Trigger != store.TriggerManual && (!c.lastPlanned.Valid || nj.PlannedAt > c.lastPlanned.Int64) {
					c.lastPlanned = sql.NullInt64{Int64: nj.PlannedAt, Valid: true}
				}
				ev, err := insertEvent(ctx, event, store.Event{JobID: job.ID, At: storeutil.Time(now), To: nj.Status,
					Node: params.Node, Detail: nj.Detail})
				if err != nil {
					return err
				}
				results[i] = store.CreateResult{Job: job, Created: true, Event: ev}
				if claim {
					// The result's Job is the job as created; the claim's, as stored.
					results[i].Claim = &store.Change{Job: job}
					results[i].Job.Status, results[i].Job.Attempt, results[i].Job.Node = nj.Status, 0, ""
					results[i].Job.LeaseUntil, results[i].Job.SendFloor = time.Time{}, time.Time{}
					results[i].Job.Post = nj.Post.Clone() // not shared with the claim's
					claimed = append(claimed, i)
				}
				continue
			}
			if !errors.Is(err, store.ErrNotFound) { // ON CONFLICT DO NOTHING returns no row
				return err
			}
			if results[i].Job, err = scanJob(existing.QueryRowContext(ctx, nj.ScheduleID, nj.PlannedAt)); err != nil {
				return err
			}
		}
		for _, id := range order {
			c := counters[id]
			if !c.dirty {
				continue
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schedule_fires (schedule_id, last_run, last_planned_at) VALUES (?, ?, ?)
				ON CONFLICT (schedule_id) DO UPDATE SET last_run = excluded.last_run, last_planned_at = excluded.last_planned_at`,
				id, c.lastRun, c.lastPlanned)
			if err != nil {
				return interpretError(err)
			}
		}
		slices.SortFunc(claimed, func(a, b int) int {
			ja, jb := results[a].Claim.Job, results[b].Claim.Job
			return cmp.Or(ja.DueAt.Compare(jb.DueAt), cmp.Compare(ja.ID, jb.ID))
		})
		for _, i := range claimed {
			ch := results[i].Claim
			ch.Event, err = insertEvent(ctx, event, store.Event{JobID: ch.Job.ID, At: storeutil.Time(now), From: store.StatusPlanned,
				To: store.StatusRunning, Node: params.Node, Attempt: 1, Detail: cl.Detail})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: create jobs: %w", err)
	}
	return results, nil
}

// ClaimJobs picks due jobs and moves them to running, in one transaction:
// with the writer lock held, the pick and the updates cannot interleave with
// another claimer.
func (s *Store) ClaimJobs(ctx context.Context, params store.ClaimJobsParams) ([]store.Change, error) {
	c, err := storeutil.CheckClaim(params)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	var changes []store.Change
	err = s.write(ctx, func(tx *sql.Tx) error {
		changes, err = claim(ctx, tx, c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim jobs: %w", err)
	}
	return changes, nil
}

// claim runs a validated claim in tx.
func claim(ctx context.Context, tx *sql.Tx, c storeutil.Claim) ([]store.Change, error) {
	var changes []store.Change
	err := func() error {
		q := `SELECT id, status FROM jobs WHERE status IN ('planned', 'retrying') AND due_at <= ?
			AND (status = 'retrying' OR due_at <= ?)`
		args := []any{c.NowN, c.PlannedCutoffN}
		if len(c.IDs) > 0 {
			ids, err := json.Marshal(c.IDs)
			if err != nil {
				return err
			}
			q += ` AND id IN (SELECT value FROM json_each(?))`
			args = append(args, string(ids))
		}
		q += ` ORDER BY due_at, id LIMIT ?`
		args = append(args, c.Limit)
		type pick struct {
			id   int64
			from store.Status
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		picks, err := collect(rows, err, func(r scanner) (pick, error) {
			var p pick
			err := r.Scan(&p.id, &p.from)
			return p, err
		})
		if err != nil || len(picks) == 0 {
			return err
		}
		update, err := tx.PrepareContext(ctx, `UPDATE jobs SET status = 'running', attempt = attempt + 1, node = ?1,
			lease_until = ?2, updated_at = ?3, send_floor = ?3 WHERE id = ?4 RETURNING `+jobColumns)
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
			job, err := scanJob(update.QueryRowContext(ctx, c.Node, c.LeaseUntilN, c.NowN, p.id))
			if err != nil {
				return err
			}
			ev, err := insertEvent(ctx, event, store.Event{JobID: job.ID, At: storeutil.Time(c.NowN), From: p.from,
				To: store.StatusRunning, Node: c.Node, Attempt: job.Attempt, Detail: c.Detail})
			if err != nil {
				return err
			}
			changes = append(changes, store.Change{Job: job, Event: ev})
		}
		return nil
	}()
	return changes, err
}
