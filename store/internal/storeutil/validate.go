package storeutil

import (
	"fmt"
	"time"

	"github.com/herald-social/herald/store"
)

// NewJob is a validated store.NewJob with defaults applied and times encoded.
type NewJob struct {
	store.NewJob
	PlannedAt int64
	DueAt     int64
	// PostJSON is the post to freeze, encoded ("" for none); NewJob.Post is
	// then its stored form (see NormalPost).
	PostJSON string
}

// CheckCreate validates p and returns its jobs with defaults applied.
func CheckCreate(p store.CreateJobsParams) (now int64, jobs []NewJob, err error) {
	if now, err = Nanos("Now", p.Now); err != nil {
		return 0, nil, err
	}
	jobs = make([]NewJob, len(p.Jobs))
	for i, j := range p.Jobs {
		if j.ScheduleID == "" {
			return 0, nil, fmt.Errorf("job %d: ScheduleID is required: %w", i, store.ErrInvalid)
		}
		if j.DueAt.IsZero() {
			j.DueAt = j.PlannedAt
		}
		if j.Status == "" {
			j.Status = store.StatusPlanned
		}
		if j.Status != store.StatusPlanned && j.Status != store.StatusMissed {
			return 0, nil, fmt.Errorf("job %d: a new job is planned or missed, not %q: %w", i, j.Status, store.ErrInvalid)
		}
		if j.Trigger == "" {
			j.Trigger = store.TriggerScheduled
		}
		if !j.Trigger.Valid() {
			return 0, nil, fmt.Errorf("job %d: unknown trigger %q: %w", i, j.Trigger, store.ErrInvalid)
		}
		out := NewJob{NewJob: j}
		if out.PlannedAt, err = Nanos("PlannedAt", j.PlannedAt); err != nil {
			return 0, nil, fmt.Errorf("job %d: %w", i, err)
		}
		if out.DueAt, err = Nanos("DueAt", j.DueAt); err != nil {
			return 0, nil, fmt.Errorf("job %d: %w", i, err)
		}
		if j.Post != nil {
			if out.Post, out.PostJSON, err = CheckPost(j.Post); err != nil {
				return 0, nil, fmt.Errorf("job %d: %w", i, err)
			}
		}
		jobs[i] = out
	}
	return now, jobs, nil
}

// Claim is validated store.ClaimJobsParams.
type Claim struct {
	store.ClaimJobsParams
	NowN, LeaseUntilN int64
	// PlannedCutoffN is the latest due_at of a claimable planned job:
	// PlannedDueBefore when set and earlier than Now, else Now.
	PlannedCutoffN int64
}

// CheckClaim validates p and settles Limit.
func CheckClaim(p store.ClaimJobsParams) (c Claim, err error) {
	c.ClaimJobsParams = p
	if p.Node == "" {
		return c, fmt.Errorf("claim: Node is required: %w", store.ErrInvalid)
	}
	if c.NowN, err = Nanos("Now", p.Now); err != nil {
		return c, fmt.Errorf("claim: %w", err)
	}
	if c.LeaseUntilN, err = Nanos("LeaseUntil", p.LeaseUntil); err != nil {
		return c, fmt.Errorf("claim: %w", err)
	}
	if c.LeaseUntilN <= c.NowN {
		return c, fmt.Errorf("claim: LeaseUntil must be after Now: %w", store.ErrInvalid)
	}
	c.PlannedCutoffN = c.NowN
	if !p.PlannedDueBefore.IsZero() {
		if len(p.IDs) > 0 {
			return c, fmt.Errorf("claim: PlannedDueBefore applies only without IDs: %w", store.ErrInvalid)
		}
		cut, err := Nanos("PlannedDueBefore", p.PlannedDueBefore)
		if err != nil {
			return c, fmt.Errorf("claim: %w", err)
		}
		c.PlannedCutoffN = min(cut, c.NowN)
	}
	switch {
	case p.Limit < 0:
		return c, fmt.Errorf("claim: negative Limit: %w", store.ErrInvalid)
	case len(p.IDs) > 0 && p.Limit == 0:
		c.Limit = len(p.IDs)
	case len(p.IDs) == 0 && p.Limit == 0:
		return c, fmt.Errorf("claim: IDs or Limit is required: %w", store.ErrInvalid)
	}
	return c, nil
}

// CreateClaim validates the claim a CreateJobs call asks for (its
// ClaimLeaseUntil, ClaimLimit and Node): the zero Claim when it asks for
// none. The stores claim, in the same statement or transaction, the first
// Limit jobs (in input order) they create planned and due at Now.
func CreateClaim(p store.CreateJobsParams) (Claim, error) {
	if p.ClaimLimit < 0 {
		return Claim{}, fmt.Errorf("create jobs: negative ClaimLimit: %w", store.ErrInvalid)
	}
	if p.ClaimLeaseUntil.IsZero() {
		return Claim{}, nil
	}
	c, err := CheckClaim(store.ClaimJobsParams{Limit: 1, Node: p.Node, Now: p.Now,
		LeaseUntil: p.ClaimLeaseUntil, Detail: "claimed at creation"})
	if err != nil {
		return c, fmt.Errorf("create jobs: ClaimLeaseUntil: %w", err)
	}
	c.Limit = len(p.Jobs)
	if p.ClaimLimit > 0 {
		c.Limit = min(p.ClaimLimit, len(p.Jobs))
	}
	return c, nil
}

// Transition is a validated store.TransitionParams.
type Transition struct {
	store.TransitionParams
	NowN int64
	// DueN is the new due_at, or 0 to keep it.
	DueN int64
	// SentN is SentAt, or 0 when not set: first_sent_at becomes it unless
	// already set.
	SentN int64
	// CheckLease: the update must match Node and Attempt (out of running).
	CheckLease bool
	// Tasks are the metrics tasks to create if the transition applies.
	Tasks []NewMetricsTask
}

// CheckTransition validates one transition without touching the database.
// It returns a *store.TransitionError for an illegal edge and an error
// wrapping store.ErrInvalid for malformed parameters.
func CheckTransition(p store.TransitionParams) (t Transition, err error) {
	t.TransitionParams = p
	bad := func(format string, args ...any) (Transition, error) {
		return t, fmt.Errorf("job %d: %s -> %s: %s: %w", p.JobID, p.From, p.To, fmt.Sprintf(format, args...), store.ErrInvalid)
	}
	if p.JobID <= 0 {
		return bad("JobID is required")
	}
	if !p.From.Valid() || !p.To.Valid() {
		return bad("unknown status")
	}
	if !store.LegalTransition(p.From, p.To) {
		return t, &store.TransitionError{JobID: p.JobID, From: p.From, To: p.To, Node: p.Node, Attempt: p.Attempt, Err: store.ErrIllegalTransition}
	}
	if p.To == store.StatusRunning {
		return bad("a move to running is a claim: use ClaimJobs")
	}
	if t.NowN, err = Nanos("Now", p.Now); err != nil {
		return bad("%v", err)
	}
	if p.Attempt < 0 {
		return bad("negative Attempt")
	}
	if p.From == store.StatusRunning {
		if p.Node == "" || p.Attempt == 0 {
			return bad("Node and Attempt are required out of running")
		}
		t.CheckLease = true
	}
	if !p.SentAt.IsZero() && p.From != store.StatusRunning {
		return bad("SentAt is only for a transition out of running")
	}
	if t.SentN, _, err = OptNanos("SentAt", p.SentAt); err != nil {
		return bad("%v", err)
	}
	if p.Failed && p.To == store.StatusPlanned {
		return bad("Failed on an operator's retry, which resets Failures")
	}
	if len(p.MetricsTasks) > 0 && p.To != store.StatusSucceeded {
		return bad("metrics tasks are created only on -> succeeded")
	}
	if t.Tasks, err = checkMetricsTasks(p.MetricsTasks); err != nil {
		return bad("%v", err)
	}
	switch p.To {
	case store.StatusRetrying:
		if t.DueN, err = Nanos("RetryAt", p.RetryAt); err != nil {
			return bad("%v", err)
		}
	case store.StatusPlanned, store.StatusUnknown:
		t.DueN = t.NowN
		if !p.RetryAt.IsZero() {
			if t.DueN, err = Nanos("RetryAt", p.RetryAt); err != nil {
				return bad("%v", err)
			}
		}
	}
	return t, nil
}

// RecordPosts is a validated store.RecordPostsParams.
type RecordPosts struct {
	store.RecordPostsParams
	// NowN is Now; SentN is SentAt, 0 when not set.
	NowN, SentN int64
}

// CheckRecordPosts validates p.
func CheckRecordPosts(p store.RecordPostsParams) (r RecordPosts, err error) {
	r.RecordPostsParams = p
	if r.NowN, err = Nanos("Now", p.Now); err != nil {
		return r, err
	}
	if r.SentN, _, err = OptNanos("SentAt", p.SentAt); err != nil {
		return r, err
	}
	return r, nil
}

// Freeze is a validated store.FreezePostParams.
type Freeze struct {
	store.FreezePostParams
	NowN int64
	// Post is the post in its stored form, PostJSON its encoding.
	Post     *store.FrozenPost
	PostJSON string
}

// CheckFreeze validates p.
func CheckFreeze(p store.FreezePostParams) (f Freeze, err error) {
	f.FreezePostParams = p
	if f.NowN, err = Nanos("Now", p.Now); err != nil {
		return f, err
	}
	if f.Post, f.PostJSON, err = CheckPost(&p.Post); err != nil {
		return f, err
	}
	return f, nil
}

// Conflict builds the error for a conditional update that matched no row,
// from what the store found (found false: no such job).
func Conflict(t Transition, found bool, actual store.Status, node string, attempt int) error {
	e := &store.TransitionError{JobID: t.JobID, From: t.From, To: t.To, Node: t.Node, Attempt: t.Attempt,
		Actual: actual, ActualNode: node, ActualAttempt: attempt, Err: store.ErrConflict}
	if !found {
		e.Err = store.ErrNotFound
	}
	return e
}

// LeaseConflict builds the error for a lease operation that matched no row.
func LeaseConflict(jobID int64, node string, attempt int, found bool, actual store.Status, actualNode string, actualAttempt int) error {
	e := &store.LeaseError{JobID: jobID, Node: node, Attempt: attempt,
		Actual: actual, ActualNode: actualNode, ActualAttempt: actualAttempt, Err: store.ErrConflict}
	if !found {
		e.Err = store.ErrNotFound
	}
	return e
}

// ExpiryDetail is the event detail of a lease expiry: whose lease, and when
// it ran out (job is the job after the change, lease the stored lease_until).
func ExpiryDetail(job store.Job, lease int64) string {
	return fmt.Sprintf("lease of node %q attempt %d expired at %s", job.Node, job.Attempt,
		Time(lease).Format(time.RFC3339Nano))
}

// CheckLease validates the common part of lease operations.
func CheckLease(node string, now, until time.Time) (nowN, untilN int64, err error) {
	if node == "" {
		return 0, 0, fmt.Errorf("Node is required: %w", store.ErrInvalid)
	}
	if nowN, err = Nanos("Now", now); err != nil {
		return 0, 0, err
	}
	if untilN, err = Nanos("LeaseUntil", until); err != nil {
		return 0, 0, err
	}
	return nowN, untilN, nil
}

// Segments splits items into consecutive runs in which no job appears twice,
// so each run can be one set-based statement while a batch that moves a job
// twice still applies its moves in order.
func Segments(items []Transition, skip func(i int) bool) [][]int {
	var (
		out  [][]int
		cur  []int
		seen = map[int64]bool{}
	)
	for i, t := range items {
		if skip(i) {
			continue
		}
		if seen[t.JobID] {
			out, cur, seen = append(out, cur), nil, map[int64]bool{}
		}
		seen[t.JobID] = true
		cur = append(cur, i)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
