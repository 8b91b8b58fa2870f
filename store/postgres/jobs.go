package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

// insertEvents records events (at most one per job) in their order, in one
// statement, and sets their IDs. The IDs come from a sequence, in insertion
// order, and commit in order because the caller holds the write lock.
func insertEvents(ctx context.Context, tx pgx.Tx, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	var (
		jobIDs, ats              = make([]int64, len(events)), make([]int64, len(events))
		froms, tos, nodes, texts = make([]string, len(events)), make([]string, len(events)), make([]string, len(events)), make([]string, len(events))
		attempts                 = make([]int32, len(events))
		index                    = make(map[int64]int, len(events))
	)
	for i, e := range events {
		if _, dup := index[e.JobID]; dup {
			return fmt.Errorf("record events: two events of job %d in one statement", e.JobID)
		}
		index[e.JobID] = i
		jobIDs[i], ats[i], froms[i], tos[i] = e.JobID, e.At.UnixNano(), string(e.From), string(e.To)
		nodes[i], attempts[i], texts[i] = e.Node, int32(e.Attempt), e.Detail
	}
	rows, err := tx.Query(ctx, `INSERT INTO job_events (job_id, at, from_status, to_status, node, attempt, detail)
		SELECT job_id, at, from_status, to_status, node, attempt, detail
		FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[])
			WITH ORDINALITY AS e(job_id, at, from_status, to_status, node, attempt, detail, ord)
		ORDER BY ord
		RETURNING id, job_id`, jobIDs, ats, froms, tos, nodes, attempts, texts)
	if err != nil {
		return fmt.Errorf("record events: %w", interpretError(err))
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, jobID int64
		if err := rows.Scan(&id, &jobID); err != nil {
			return fmt.Errorf("record events: %w", interpretError(err))
		}
		events[index[jobID]].ID = id
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("record events: %w", interpretError(err))
	}
	if n != len(events) {
		return fmt.Errorf("record events: %d of %d recorded", n, len(events))
	}
	return nil
}

// createSQL inserts the fires not yet recorded, numbers them from each
// schedule's counter, advances the counters and records the creation events.
// It returns the new jobs (true, with their event ID) and the pre-existing
// ones (false). The write lock makes the counter read and the inserts atomic
// with respect to other creators.
//
// With a claim lease ($10 not NULL), a new job that is planned and due at
// $8, among the first $13 such jobs in input order, is inserted already
// running under node $9 (attempt 1, lease $10, send floor $8) and gets a
// second event, its claim, whose ID ($11 the detail) comes after every
// creation event of the batch, in (due_at, id) order: the events a
// ClaimJobs after the insert would have written, without updating every row
// just inserted (that update was nearly half of the write: 1,667 fires,
// 54 ms to create alone, 98 ms to create and then claim). The count of
// claimable jobs before each one is a window over ided's own sort by input
// order, so it costs no sort of its own.
//
// $12 are the posts to freeze, JSON (empty for none), stored as text in the
// insert. The new jobs come back with a NULL post: the caller knows it.
//
// Job and event IDs are drawn from the identity sequences up front, in input
// order, so the statement never joins one CTE to another (with the row
// estimates of unnest, the planner would pick a nested loop: quadratic), and
// the new jobs are returned from what was inserted without reading it back.
var createSQL = `WITH input AS (
	SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $12::text[], $14::text[])
		WITH ORDINALITY AS i(schedule_id, planned_at, due_at, status, trigger_kind, correlation_id, detail, post, revision, ord)
), fresh AS (
	SELECT DISTINCT ON (i.schedule_id, i.planned_at) i.*
	FROM input i
	WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.schedule_id = i.schedule_id AND j.planned_at = i.planned_at)
	ORDER BY i.schedule_id, i.planned_at, i.ord
), numbered AS (
	SELECT f.*, coalesce(c.last_run, 0) + row_number() OVER (PARTITION BY f.schedule_id ORDER BY f.ord) AS run,
		$10::bigint IS NOT NULL AND f.status = 'planned' AND f.due_at <= $8 AS claimable
	FROM fresh f LEFT JOIN schedule_fires c ON c.schedule_id = f.schedule_id
), ided AS (
	-- volatile, so materialised once; evaluated after the sort, so in input order
	SELECT n.*, n.claimable AND count(*) FILTER (WHERE n.claimable) OVER (ORDER BY n.ord) <= $13 AS claimed,
		nextval('jobs_id_seq') AS job_id, nextval('job_events_id_seq') AS event_id
	FROM numbered n ORDER BY n.ord
), claims AS (
	-- after the sort, which reads all of ided first: claim events follow
	-- every creation event
	SELECT c.job_id, nextval('job_events_id_seq') AS claim_event_id
	FROM (SELECT job_id, due_at FROM ided WHERE claimed ORDER BY due_at, job_id) c
), ins AS (
	INSERT INTO jobs (id, schedule_id, planned_at, due_at, status, attempt, run, trigger_kind, correlation_id, node,
		lease_until, created_at, updated_at, post, send_floor, revision, fired_by)
	OVERRIDING SYSTEM VALUE
	SELECT job_id, schedule_id, planned_at, due_at, CASE WHEN claimed THEN 'running' ELSE status END,
		CASE WHEN claimed THEN 1 ELSE 0 END, run, trigger_kind, correlation_id, CASE WHEN claimed THEN $9 ELSE '' END,
		CASE WHEN claimed THEN $10::bigint END, $8, $8, NULLIF(post, ''), CASE WHEN claimed THEN $8::bigint END,
		revision, $9
	FROM ided
), counters AS (
	INSERT INTO schedule_fires AS c (schedule_id, last_run, last_planned_at)
	SELECT schedule_id, max(run), max(planned_at) FILTER (WHERE trigger_kind <> 'manual') FROM ided GROUP BY schedule_id
	ON CONFLICT (schedule_id) DO UPDATE SET
		last_run = greatest(c.last_run, excluded.last_run),
		last_planned_at = greatest(c.last_planned_at, excluded.last_planned_at) -- greatest ignores NULL
), ev AS (
	INSERT INTO job_events (id, job_id, at, from_status, to_status, node, attempt, detail)
	OVERRIDING SYSTEM VALUE
	SELECT event_id, job_id, $8, '', status, $9, 0, detail FROM ided
	UNION ALL
	SELECT claim_event_id, job_id, $8, 'planned', 'running', $9, 1, $11 FROM claims
)
SELECT 'created', event_id, job_id, schedule_id, planned_at, due_at, status, 0, run, trigger_kind,
	correlation_id, '', NULL::bigint, '{}'::text[], '', '', $8::bigint, $8::bigint, 0, NULL::text, NULL::bigint, NULL::bigint,
	revision, $9::text
FROM ided
UNION ALL -- the claims by themselves: joined to ided, the planner would pick a nested loop
SELECT 'claimed', claim_event_id, job_id, '', 0, 0, '', 0, 0, 'scheduled', '', '', NULL::bigint, '{}'::text[], '', '', 0, 0, 0,
	NULL::text, NULL::bigint, NULL::bigint, '', ''
FROM claims
UNION ALL
SELECT 'found', 0, ` + jobColumns("j.") + ` FROM jobs j
WHERE (j.schedule_id, j.planned_at) IN (SELECT schedule_id, planned_at FROM input)`

type fireKey struct {
	schedule string
	planned  int64
}

// CreateJobs records fires, and claims those it may (see createSQL), in one
// statement.
func (s *Store) CreateJobs(ctx context.Context, params store.CreateJobsParams) ([]store.CreateResult, error) {
	now, jobs, err := storeutil.CheckCreate(params)
	var c storeutil.Claim
	if err == nil {
		c, err = storeutil.CreateClaim(params)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: create jobs: %w", err)
	}
	results := make([]store.CreateResult, len(jobs))
	if len(jobs) == 0 {
		return results, nil
	}
	var (
		n                                                    = len(jobs)
		schedules, statuses, triggers, correlations, details = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		posts, revisions                                     = make([]string, n), make([]string, n)
		planned, due                                         = make([]int64, n), make([]int64, n)
	)
	for i, j := range jobs {
		schedules[i], planned[i], due[i] = j.ScheduleID, j.PlannedAt, j.DueAt
		statuses[i], triggers[i], correlations[i], details[i] = string(j.Status), string(j.Trigger), j.CorrelationID, j.Detail
		posts[i], revisions[i] = j.PostJSON, j.Revision
	}
	var leaseUntil *int64 // NULL: claim nothing
	if !params.ClaimLeaseUntil.IsZero() {
		leaseUntil = &c.LeaseUntilN
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		type found struct {
			job     store.Job
			created bool
			eventID int64
		}
		byKey := make(map[fireKey]*found, n)
		claimed := make(map[int64]int64) // job ID -> claim event ID
		// Posts that NewJob.Render makes from the run numbers the insert
		// will assign, predicted under the write lock, so they go in the
		// one insert (an update of the rows afterwards doubled the write).
		posts := posts
		rendered := make([]*store.FrozenPost, n)
		var runs []int64
		if needsRender(jobs) {
			var err error
			if runs, err = predictRuns(ctx, tx, schedules, planned); err != nil {
				return err
			}
			posts = slices.Clone(posts)
			for i, j := range jobs {
				if runs[i] > 0 {
					if p, js := storeutil.RenderPost(j.NewJob, runs[i]); p != nil {
						rendered[i], posts[i] = p, js
					}
				}
			}
		}
		rows, err := tx.Query(ctx, createSQL, schedules, planned, due, statuses, triggers, correlations, details, now,
			params.Node, leaseUntil, c.Detail, posts, c.Limit, revisions)
		if err != nil {
			return interpretError(err)
		}
		for rows.Next() {
			var kind string
			f := &found{}
			dest, finish := jobDest(&f.job)
			if err := rows.Scan(append([]any{&kind, &f.eventID}, dest...)...); err != nil {
				rows.Close()
				return interpretError(err)
			}
			if kind == "claimed" {
				claimed[f.job.ID] = f.eventID
				continue
			}
			if err := finish(); err != nil {
				rows.Close()
				return err
			}
			f.created = kind == "created"
			byKey[fireKey{f.job.ScheduleID, f.job.PlannedAt.UnixNano()}] = f
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return interpretError(err)
		}
		// A post made from a predicted run number that the insert did not
		// give (see predictRuns) is made again and written over.
		var fixIDs []int64
		var fixPosts []string
		for i, j := range jobs {
			f := byKey[fireKey{j.ScheduleID, j.PlannedAt}]
			if f == nil || !f.created || rendered[i] == nil || f.job.Run == runs[i] {
				continue
			}
			p, js := storeutil.RenderPost(j.NewJob, f.job.Run)
			rendered[i] = p
			fixIDs, fixPosts = append(fixIDs, f.job.ID), append(fixPosts, js)
		}
		if len(fixIDs) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE jobs SET post = NULLIF(d.post, '') FROM unnest($1::bigint[], $2::text[]) AS d(id, post)
				WHERE jobs.id = d.id`, fixIDs, fixPosts); err != nil {
				return interpretError(err)
			}
		}
		at := storeutil.Time(now)
		for i, j := range jobs {
			f := byKey[fireKey{j.ScheduleID, j.PlannedAt}]
			if f == nil {
				return fmt.Errorf("fire %s@%d neither created nor found", j.ScheduleID, j.PlannedAt)
			}
			if f.created {
				f.job.Post = j.Post // the post just frozen, in its stored form
				if p := rendered[i]; p != nil {
					f.job.Post = p
				}
			}
			results[i] = store.CreateResult{Job: f.job, Created: f.created}
			if !f.created {
				results[i].Job.Post = f.job.Post.Clone() // a result shares nothing with another
				continue
			}
			f.created = false // later copies in the batch are duplicates
			results[i].Event = store.Event{ID: f.eventID, JobID: f.job.ID, At: at, To: j.Status, Node: params.Node, Detail: j.Detail}
			if id, ok := claimed[f.job.ID]; ok {
				running := f.job
				running.Status, running.Attempt, running.Node = store.StatusRunning, 1, params.Node
				running.LeaseUntil, running.SendFloor = storeutil.Time(c.LeaseUntilN), at
				running.Post = f.job.Post.Clone()
				results[i].Claim = &store.Change{Job: running, Event: store.Event{ID: id, JobID: f.job.ID, At: at,
					From: store.StatusPlanned, To: store.StatusRunning, Node: params.Node, Attempt: 1, Detail: c.Detail}}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: create jobs: %w", err)
	}
	return results, nil
}

// needsRender reports whether a job of the batch has its post made by
// NewJob.Render.
func needsRender(jobs []storeutil.NewJob) bool {
	for _, j := range jobs {
		if j.Post == nil && j.Render != nil {
			return true
		}
	}
	return false
}

// predictRuns returns, for each fire of a batch about to be created, the
// run number createSQL will give it if it is new: each schedule's counter
// plus the fire's rank among the schedule's fires of the batch, in input
// order (0 for a later copy of a fire). The caller holds the write lock,
// so no other creator moves the counters meanwhile. A fire already
// recorded takes no number, so a new fire of the same schedule after it in
// the same batch (rare: a batch holds one fire per schedule, but for a
// restart's catch-up) is predicted one too high; the caller checks each
// created job's run and makes its post again when it differs.
func predictRuns(ctx context.Context, tx pgx.Tx, schedules []string, planned []int64) ([]int64, error) {
	rows, err := tx.Query(ctx, `SELECT schedule_id, last_run FROM schedule_fires WHERE schedule_id = ANY($1)`, schedules)
	if err != nil {
		return nil, interpretError(err)
	}
	counters := map[string]int64{}
	for rows.Next() {
		var id string
		var last int64
		if err := rows.Scan(&id, &last); err != nil {
			rows.Close()
			return nil, interpretError(err)
		}
		counters[id] = last
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, interpretError(err)
	}
	runs := make([]int64, len(schedules))
	seen := make(map[fireKey]bool, len(schedules))
	for i, id := range schedules {
		k := fireKey{id, planned[i]}
		if seen[k] {
			continue
		}
		seen[k] = true
		counters[id]++
		runs[i] = counters[id]
	}
	return runs, nil
}

// claimSQL moves the picked jobs to running and records the claim events;
// %s is the pick. Event IDs are drawn in (due_at, id) order.
const claimSQL = `WITH picked AS (
	%s
	FOR UPDATE SKIP LOCKED
), ided AS (
	SELECT id, status, nextval('job_events_id_seq') AS event_id FROM picked ORDER BY due_at, id
), upd AS (
	UPDATE jobs j SET status = 'running', attempt = j.attempt + 1, node = $3, lease_until = $4, updated_at = $1,
		send_floor = $1
	FROM ided p WHERE j.id = p.id
	RETURNING p.event_id, p.status AS from_status, %s
), ev AS (
	INSERT INTO job_events (id, job_id, at, from_status, to_status, node, attempt, detail)
	OVERRIDING SYSTEM VALUE
	SELECT event_id, id, $1, from_status, 'running', $3, attempt, $5 FROM upd
)
SELECT event_id, from_status, %s FROM upd`

// The picks. Any due jobs: the due index, in order. Given IDs: by primary
// key only. The status and due conditions of that pick are written as
// expressions no index can serve (a concatenation, an addition): otherwise,
// when the statistics say the due index is small (they are taken between
// bursts), the planner walks it, past every dead entry the queue's updates
// left, testing each against the ID array, and a 1,000-job claim takes
// hundreds of milliseconds instead of one.
var (
	claimAnySQL = fmt.Sprintf(claimSQL, `SELECT id, status, due_at FROM jobs
	WHERE status IN ('planned', 'retrying') AND due_at <= $1 AND (status = 'retrying' OR due_at <= $6)
	ORDER BY due_at, id LIMIT $2`, jobColumns("j."), jobColumns(""))
	claimIDsSQL = fmt.Sprintf(claimSQL, `SELECT id, status, due_at FROM jobs
	WHERE id = ANY($6::bigint[]) AND (status || '') IN ('planned', 'retrying') AND due_at + 0 <= $1
	ORDER BY due_at, id LIMIT $2`, jobColumns("j."), jobColumns(""))
)

// ClaimJobs picks due jobs and moves them to running in one statement; the
// row locks (SKIP LOCKED) and the write lock each make sure one claimer wins.
func (s *Store) ClaimJobs(ctx context.Context, params store.ClaimJobsParams) ([]store.Change, error) {
	c, err := storeutil.CheckClaim(params)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	var changes []store.Change
	err = s.write(ctx, func(tx pgx.Tx) error {
		changes, err = claim(ctx, tx, c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim jobs: %w", err)
	}
	slices.SortFunc(changes, func(a, b store.Change) int { return cmp.Compare(a.Event.ID, b.Event.ID) })
	return changes, nil
}

// claim runs a validated claim in tx, returning the changes in event order.
func claim(ctx context.Context, tx pgx.Tx, c storeutil.Claim) ([]store.Change, error) {
	args := []any{c.NowN, c.Limit, c.Node, c.LeaseUntilN, c.Detail}
	q := claimAnySQL
	if len(c.IDs) > 0 {
		q, args = claimIDsSQL, append(args, c.IDs)
	} else {
		args = append(args, c.PlannedCutoffN)
	}
	rows, err := tx.Query(ctx, q, args...)
	changes, err := collect(rows, err, func(row pgx.Row) (store.Change, error) {
		var (
			ch   store.Change
			from string
		)
		dest, finish := jobDest(&ch.Job)
		if err := row.Scan(append([]any{&ch.Event.ID, &from}, dest...)...); err != nil {
			return ch, interpretError(err)
		}
		if err := finish(); err != nil {
			return ch, err
		}
		ch.Event = store.Event{ID: ch.Event.ID, JobID: ch.Job.ID, At: storeutil.Time(c.NowN), From: store.Status(from),
			To: store.StatusRunning, Node: c.Node, Attempt: ch.Job.Attempt, Detail: c.Detail}
		return ch, nil
	})
	slices.SortFunc(changes, func(a, b store.Change) int { return cmp.Compare(a.Event.ID, b.Event.ID) })
	return changes, err
}

// recordChanges inserts the events of changes and copies their IDs back.
func recordChanges(ctx context.Context, tx pgx.Tx, changes []store.Change) error {
	events := make([]store.Event, len(changes))
	for i, c := range changes {
		events[i] = c.Event
	}
	if err := insertEvents(ctx, tx, events); err != nil {
		return err
	}
	for i := range changes {
		changes[i].Event.ID = events[i].ID
	}
	return nil
}
