package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

// transitionSQL applies a segment of transitions (distinct jobs) as one
// conditional update and records their events: a row changes only if the job
// is still in From and, out of running, still under the caller's lease.
// Event IDs are drawn up front in batch order (a failed item leaves a gap),
// so no CTE is joined to another; see createSQL.
var transitionSQL = `WITH p AS (
	SELECT u.*, nextval('job_events_id_seq') AS event_id
	FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[],
		$7::text[], $8::text[], $9::bigint[], $10::text[], $11::text[], $12::text[], $13::bool[], $14::bigint[])
		WITH ORDINALITY AS u(id, from_status, to_status, lease_node, attempt, due_at, last_error, dead_reason, now, posts,
			actor, detail, failed, sent_at, ord)
	ORDER BY u.ord
), upd AS (
	UPDATE jobs j SET
		status      = p.to_status,
		due_at      = CASE WHEN p.due_at <> 0 THEN p.due_at ELSE j.due_at END,
		lease_until = NULL,
		last_error  = CASE WHEN p.last_error <> '' THEN p.last_error ELSE j.last_error END,
		dead_reason = CASE p.to_status WHEN 'dead' THEN p.dead_reason WHEN 'planned' THEN '' ELSE j.dead_reason END,
		failures    = CASE WHEN p.to_status = 'planned' THEN 0 WHEN p.failed THEN j.failures + 1 ELSE j.failures END,
		first_sent_at = coalesce(j.first_sent_at, nullif(p.sent_at, 0)),
		post_ids    = CASE WHEN p.posts = '' THEN j.post_ids ELSE j.post_ids || ARRAY(
			SELECT e FROM jsonb_array_elements_text(p.posts::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY n) END,
		updated_at  = p.now
	FROM p
	WHERE j.id = ANY($1::bigint[]) -- an index condition whatever the estimates of p
		AND j.id = p.id AND j.status = p.from_status
		AND (p.attempt = 0 OR j.attempt = p.attempt) AND (p.lease_node = '' OR j.node = p.lease_node)
	RETURNING p.event_id, p.from_status AS ev_from, p.actor, p.detail, ` + jobColumns("j.") + `
), ev AS (
	INSERT INTO job_events (id, job_id, at, from_status, to_status, node, attempt, detail)
	OVERRIDING SYSTEM VALUE
	SELECT event_id, id, updated_at, ev_from, status, actor, attempt, detail FROM upd
)
SELECT event_id, ` + jobColumns("") + ` FROM upd`

// Transition applies the batch in one transaction: one statement per segment
// of distinct jobs (usually the whole batch), then one for the events.
func (s *Store) Transition(ctx context.Context, params ...store.TransitionParams) ([]store.TransitionResult, error) {
	results := make([]store.TransitionResult, len(params))
	checked := make([]storeutil.Transition, len(params))
	for i, p := range params {
		checked[i], results[i].Err = storeutil.CheckTransition(p)
	}
	segments := storeutil.Segments(checked, func(i int) bool { return results[i].Err != nil })
	if len(segments) == 0 {
		return results, nil
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		for _, seg := range segments {
			if err := s.transitionSegment(ctx, tx, checked, seg, results); err != nil {
				return err
			}
		}
		return insertMetricsTasks(ctx, tx, checked, results)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: transition: %w", err)
	}
	return results, nil
}

func (s *Store) transitionSegment(ctx context.Context, tx pgx.Tx, checked []storeutil.Transition, seg []int, results []store.TransitionResult) error {
	n := len(seg)
	var (
		ids, dues, nows, sents                  = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		froms, tos, nodes, errs, reasons, posts = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		actors, details                         = make([]string, n), make([]string, n)
		attempts                                = make([]int32, n)
		failed                                  = make([]bool, n)
		index                                   = make(map[int64]int, n)
	)
	for k, i := range seg {
		t := checked[i]
		index[t.JobID] = i
		ids[k], froms[k], tos[k], attempts[k], dues[k], nows[k] = t.JobID, string(t.From), string(t.To), int32(t.Attempt), t.DueN, t.NowN
		errs[k], reasons[k], actors[k], details[k], failed[k] = t.LastError, t.DeadReason, t.Node, t.Detail, t.Failed
		sents[k] = t.SentN
		if t.CheckLease {
			nodes[k] = t.Node
		}
		if len(t.AppendPostIDs) > 0 {
			b, err := json.Marshal(t.AppendPostIDs)
			if err != nil {
				return err
			}
			posts[k] = string(b)
		}
	}
	rows, err := tx.Query(ctx, transitionSQL, ids, froms, tos, nodes, attempts, dues, errs, reasons, nows, posts, actors, details, failed, sents)
	done := make(map[int64]store.Change, n)
	_, err = collect(rows, err, func(r pgx.Row) (struct{}, error) {
		var ch store.Change
		dest, finish := jobDest(&ch.Job)
		if err := r.Scan(append([]any{&ch.Event.ID}, dest...)...); err != nil {
			return struct{}{}, interpretError(err)
		}
		if err := finish(); err != nil {
			return struct{}{}, err
		}
		done[ch.Job.ID] = ch
		return struct{}{}, nil
	})
	if err != nil {
		return err
	}
	var missed []int64
	for _, i := range seg {
		t := checked[i]
		ch, ok := done[t.JobID]
		if !ok {
			missed = append(missed, t.JobID)
			continue
		}
		ch.Event = store.Event{ID: ch.Event.ID, JobID: t.JobID, At: storeutil.Time(t.NowN), From: t.From, To: t.To,
			Node: t.Node, Attempt: ch.Job.Attempt, Detail: t.Detail}
		results[i].Change = ch
	}
	if len(missed) == 0 {
		return nil
	}
	actual, err := currentJobs(ctx, tx, missed)
	if err != nil {
		return err
	}
	for _, id := range missed {
		a, found := actual[id]
		results[index[id]].Err = storeutil.Conflict(checked[index[id]], found, a.status, a.node, a.attempt)
	}
	return nil
}

// insertMetricsTasks creates, in one statement, the metrics tasks of the
// transitions that applied. A task already recorded for the same (job, post,
// stage) is kept.
func insertMetricsTasks(ctx context.Context, tx pgx.Tx, checked []storeutil.Transition, results []store.TransitionResult) error {
	var (
		jobIDs, stages, dues, created []int64
		schedules, accounts, posts    []string
	)
	for i, t := range checked {
		if results[i].Err != nil {
			continue
		}
		for _, nt := range t.Tasks {
			jobIDs, stages, dues, created = append(jobIDs, t.JobID), append(stages, int64(nt.Stage)), append(dues, nt.DueN), append(created, t.NowN)
			schedules, accounts, posts = append(schedules, results[i].Job.ScheduleID), append(accounts, nt.Account), append(posts, nt.PostID)
		}
	}
	if len(jobIDs) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO metrics_tasks (job_id, schedule_id, account, post_id, stage, due_at, created_at)
		SELECT job_id, schedule_id, account, post_id, stage, due_at, created_at
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
			WITH ORDINALITY AS t(job_id, schedule_id, account, post_id, stage, due_at, created_at, ord)
		ORDER BY ord
		ON CONFLICT (job_id, post_id, stage) DO NOTHING`, jobIDs, schedules, accounts, posts, stages, dues, created)
	if err != nil {
		return fmt.Errorf("create metrics tasks: %w", interpretError(err))
	}
	return nil
}

type jobState struct {
	status  store.Status
	node    string
	attempt int
}

// currentJobs reads what failed conditional updates ran into.
func currentJobs(ctx context.Context, tx pgx.Tx, ids []int64) (map[int64]jobState, error) {
	rows, err := tx.Query(ctx, `SELECT id, status, node, attempt FROM jobs WHERE id = ANY($1::bigint[])`, ids)
	if err != nil {
		return nil, interpretError(err)
	}
	defer rows.Close()
	out := make(map[int64]jobState, len(ids))
	for rows.Next() {
		var (
			id     int64
			st     jobState
			status string
		)
		if err := rows.Scan(&id, &status, &st.node, &st.attempt); err != nil {
			return nil, interpretError(err)
		}
		st.status = store.Status(status)
		out[id] = st
	}
	return out, interpretError(rows.Err())
}

// leaseConflict is the error of a lease operation whose update matched no
// row: a *store.LeaseError, or the error reading the job.
func leaseConflict(ctx context.Context, tx pgx.Tx, jobID int64, node string, attempt int) error {
	actual, err := currentJobs(ctx, tx, []int64{jobID})
	if err != nil {
		return err
	}
	a, found := actual[jobID]
	return storeutil.LeaseConflict(jobID, node, attempt, found, a.status, a.node, a.attempt)
}

// RenewLeases extends, in one statement, each lease still held by
// params.Node.
func (s *Store) RenewLeases(ctx context.Context, params store.RenewLeasesParams) ([]error, error) {
	now, until, err := storeutil.CheckLease(params.Node, params.Now, params.LeaseUntil)
	if err != nil {
		return nil, fmt.Errorf("postgres: renew leases: %w", err)
	}
	errs := make([]error, len(params.Leases))
	if len(params.Leases) == 0 {
		return errs, nil
	}
	ids, attempts := make([]int64, len(params.Leases)), make([]int32, len(params.Leases))
	for i, l := range params.Leases {
		ids[i], attempts[i] = l.JobID, int32(l.Attempt)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE jobs j SET lease_until = $1, updated_at = $2
			FROM unnest($3::bigint[], $4::int[]) AS l(id, attempt)
			WHERE j.id = l.id AND j.status = 'running' AND j.node = $5 AND j.attempt = l.attempt
			RETURNING j.id`, until, now, ids, attempts, params.Node)
		renewed, err := collect(rows, err, func(r pgx.Row) (id int64, err error) {
			err = r.Scan(&id)
			return id, err
		})
		if err != nil {
			return err
		}
		ok := make(map[int64]bool, len(renewed))
		for _, id := range renewed {
			ok[id] = true
		}
		var lost []int64
		for _, l := range params.Leases {
			if !ok[l.JobID] {
				lost = append(lost, l.JobID)
			}
		}
		if len(lost) == 0 {
			return nil
		}
		actual, err := currentJobs(ctx, tx, lost)
		if err != nil {
			return err
		}
		for i, l := range params.Leases {
			if ok[l.JobID] {
				continue
			}
			a, found := actual[l.JobID]
			errs[i] = storeutil.LeaseConflict(l.JobID, params.Node, l.Attempt, found, a.status, a.node, a.attempt)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: renew leases: %w", err)
	}
	return errs, nil
}

// RecordPosts appends post IDs to a running job under the caller's lease.
func (s *Store) RecordPosts(ctx context.Context, params store.RecordPostsParams) (store.Job, error) {
	var job store.Job
	r, err := storeutil.CheckRecordPosts(params)
	if err != nil {
		return job, fmt.Errorf("postgres: record posts: %w", err)
	}
	posts := params.PostIDs
	if posts == nil {
		posts = []string{}
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		job, err = scanJob(tx.QueryRow(ctx, `UPDATE jobs SET post_ids = post_ids || $1::text[], updated_at = $2,
				first_sent_at = coalesce(first_sent_at, nullif($6::bigint, 0))
			WHERE id = $3 AND status = 'running' AND node = $4 AND attempt = $5 RETURNING `+jobColumns(""),
			posts, r.NowN, params.JobID, params.Node, params.Attempt, r.SentN))
		if !errors.Is(err, store.ErrNotFound) { // nil, or a failure
			return err
		}
		return leaseConflict(ctx, tx, params.JobID, params.Node, params.Attempt)
	})
	if err != nil {
		return store.Job{}, fmt.Errorf("postgres: record posts: %w", err)
	}
	return job, nil
}

// ExpireLeases moves running jobs with a lease before Now to unknown.
func (s *Store) ExpireLeases(ctx context.Context, params store.ExpireLeasesParams) ([]store.Change, error) {
	now, err := storeutil.Nanos("Now", params.Now)
	if err != nil {
		return nil, fmt.Errorf("postgres: expire leases: %w", err)
	}
	var limit *int // NULL: no limit
	if params.Limit > 0 {
		limit = &params.Limit
	}
	type expired struct {
		store.Change
		lease int64
	}
	var changes []store.Change
	err = s.write(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `WITH picked AS (
				SELECT id, lease_until FROM jobs WHERE status = 'running' AND lease_until < $1
				ORDER BY lease_until, id LIMIT $2 FOR UPDATE SKIP LOCKED
			)
			-- A lost attempt may have sent, from its send floor on (from the
			-- job's creation when an older Herald claimed it without one);
			-- its reconciliation is due at once.
			UPDATE jobs j SET status = 'unknown', lease_until = NULL, due_at = $1,
				first_sent_at = coalesce(j.first_sent_at, j.send_floor, j.created_at), updated_at = $1
			FROM picked p WHERE j.id = p.id
			RETURNING p.lease_until, `+jobColumns("j."), now, limit)
		exp, err := collect(rows, err, func(r pgx.Row) (e expired, err error) {
			dest, finish := jobDest(&e.Job)
			if err = r.Scan(append([]any{&e.lease}, dest...)...); err != nil {
				return e, interpretError(err)
			}
			return e, finish()
		})
		if err != nil {
			return err
		}
		slices.SortFunc(exp, func(a, b expired) int { return cmp.Or(cmp.Compare(a.lease, b.lease), cmp.Compare(a.Job.ID, b.Job.ID)) })
		changes = make([]store.Change, len(exp))
		for i, e := range exp {
			changes[i] = store.Change{Job: e.Job, Event: store.Event{JobID: e.Job.ID, At: storeutil.Time(now), From: store.StatusRunning,
				To: store.StatusUnknown, Node: params.Node, Attempt: e.Job.Attempt, Detail: storeutil.ExpiryDetail(e.Job, e.lease)}}
		}
		return recordChanges(ctx, tx, changes)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: expire leases: %w", err)
	}
	return changes, nil
}

// ReleaseLeases ends params.Node's leases at Now (never extending one).
func (s *Store) ReleaseLeases(ctx context.Context, params store.ReleaseLeasesParams) ([]store.Job, error) {
	if params.Node == "" {
		return nil, fmt.Errorf("postgres: release leases: Node is required: %w", store.ErrInvalid)
	}
	now, err := storeutil.Nanos("Now", params.Now)
	if err != nil {
		return nil, fmt.Errorf("postgres: release leases: %w", err)
	}
	var jobs []store.Job
	err = s.write(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE jobs SET lease_until = least(lease_until, $1), updated_at = $1
			WHERE status = 'running' AND node = $2 RETURNING `+jobColumns(""), now, params.Node)
		jobs, err = collect(rows, err, scanJob)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: release leases: %w", err)
	}
	slices.SortFunc(jobs, func(a, b store.Job) int { return cmp.Compare(a.ID, b.ID) })
	return jobs, nil
}
