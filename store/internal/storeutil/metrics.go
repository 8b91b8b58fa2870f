package storeutil

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/herald-social/herald/store"
)

// NewMetricsTask is a validated store.NewMetricsTask with its due time
// encoded.
type NewMetricsTask struct {
	store.NewMetricsTask
	DueN int64
}

func checkMetricsTasks(tasks []store.NewMetricsTask) ([]NewMetricsTask, error) {
	if len(tasks) == 0 {
		return nil, nil
	}
	out := make([]NewMetricsTask, len(tasks))
	for i, nt := range tasks {
		switch {
		case nt.Account == "":
			return nil, fmt.Errorf("metrics task %d: Account is required: %w", i, store.ErrInvalid)
		case nt.PostID == "":
			return nil, fmt.Errorf("metrics task %d: PostID is required: %w", i, store.ErrInvalid)
		case nt.Stage < 0:
			return nil, fmt.Errorf("metrics task %d: negative Stage: %w", i, store.ErrInvalid)
		}
		due, err := Nanos("DueAt", nt.DueAt)
		if err != nil {
			return nil, fmt.Errorf("metrics task %d: %w", i, err)
		}
		out[i] = NewMetricsTask{NewMetricsTask: nt, DueN: due}
	}
	return out, nil
}

// MetricsClaim is a validated store.ClaimMetricsTasksParams.
type MetricsClaim struct {
	store.ClaimMetricsTasksParams
	NowN, LeaseUntilN int64
}

// CheckMetricsClaim validates p.
func CheckMetricsClaim(p store.ClaimMetricsTasksParams) (c MetricsClaim, err error) {
	c.ClaimMetricsTasksParams = p
	if p.Account == "" {
		return c, fmt.Errorf("claim metrics tasks: Account is required: %w", store.ErrInvalid)
	}
	if p.Limit <= 0 {
		return c, fmt.Errorf("claim metrics tasks: Limit must be positive: %w", store.ErrInvalid)
	}
	if c.NowN, c.LeaseUntilN, err = CheckLease(p.Node, p.Now, p.LeaseUntil); err != nil {
		return c, fmt.Errorf("claim metrics tasks: %w", err)
	}
	if c.LeaseUntilN <= c.NowN {
		return c, fmt.Errorf("claim metrics tasks: LeaseUntil must be after Now: %w", store.ErrInvalid)
	}
	return c, nil
}

// TaskLease is what a driver reads of a task before completing or deferring
// it: its identity and its lease.
type TaskLease struct {
	ID     int64
	JobID  int64
	PostID string
	Stage  int64 // nanoseconds
	DueAt  int64
	Node   string
	Leased bool // lease_until is set
}

// Snapshot is a validated snapshot to record: its task's identity and the
// encoded times and maps.
type Snapshot struct {
	store.MetricsSnapshot
	// Index is the snapshot's position in the params.
	Index                      int
	StageN, DueN, CapturedN    int64
	NonPublicJSON, OrganicJSON *string
}

// CheckComplete validates the call (an error for the whole call) and each
// snapshot (errs, one per snapshot), and returns the task IDs to read.
func CheckComplete(p store.CompleteMetricsTasksParams) (nowN int64, ids []int64, errs []error, err error) {
	if p.Node == "" {
		return 0, nil, nil, fmt.Errorf("complete metrics tasks: Node is required: %w", store.ErrInvalid)
	}
	if nowN, err = Nanos("Now", p.Now); err != nil {
		return 0, nil, nil, fmt.Errorf("complete metrics tasks: %w", err)
	}
	errs = make([]error, len(p.Snapshots))
	for i, s := range p.Snapshots {
		if s.TaskID <= 0 {
			errs[i] = fmt.Errorf("snapshot %d: TaskID is required: %w", i, store.ErrInvalid)
			continue
		}
		if _, _, err := OptNanos("CapturedAt", s.CapturedAt); err != nil {
			errs[i] = fmt.Errorf("metrics task %d: %w", s.TaskID, err)
			continue
		}
		if _, _, err := OptNanos("DueAt", s.DueAt); err != nil {
			errs[i] = fmt.Errorf("metrics task %d: %w", s.TaskID, err)
			continue
		}
		ids = append(ids, s.TaskID)
	}
	return nowN, ids, errs, nil
}

// PlanComplete decides, given the tasks found (by ID), which snapshots are
// recorded, as if they were applied one by one: a snapshot whose task is
// not leased to node fails with a *store.LeaseError, one that contradicts
// its task with ErrInvalid, and a second snapshot of a task completed
// earlier in the call with ErrNotFound. errs holds the errors of
// CheckComplete and receives the new ones.
func PlanComplete(p store.CompleteMetricsTasksParams, nowN int64, tasks map[int64]TaskLease, errs []error) ([]Snapshot, error) {
	done := make(map[int64]bool)
	var out []Snapshot
	for i, s := range p.Snapshots {
		if errs[i] != nil {
			continue
		}
		t, found := tasks[s.TaskID]
		if errs[i] = taskLeaseError(s.TaskID, p.Node, t, found && !done[s.TaskID]); errs[i] != nil {
			continue
		}
		if errs[i] = snapshotMismatch(s, t); errs[i] != nil {
			continue
		}
		snap := Snapshot{MetricsSnapshot: s, Index: i, DueN: t.DueAt, StageN: t.Stage, CapturedN: nowN}
		snap.JobID, snap.PostID, snap.Stage, snap.DueAt = t.JobID, t.PostID, durationOf(t.Stage), Time(t.DueAt)
		if !s.CapturedAt.IsZero() {
			snap.CapturedN = s.CapturedAt.UnixNano()
		}
		var err error
		if snap.NonPublicJSON, err = EncodeCounts(s.NonPublic); err != nil {
			return nil, err
		}
		if snap.OrganicJSON, err = EncodeCounts(s.Organic); err != nil {
			return nil, err
		}
		done[s.TaskID] = true
		out = append(out, snap)
	}
	return out, nil
}

func snapshotMismatch(s store.MetricsSnapshot, t TaskLease) error {
	if (s.JobID != 0 && s.JobID != t.JobID) || (s.PostID != "" && s.PostID != t.PostID) ||
		(s.Stage != 0 && int64(s.Stage) != t.Stage) || (!s.DueAt.IsZero() && s.DueAt.UnixNano() != t.DueAt) {
		return fmt.Errorf("metrics task %d: snapshot of job %d post %q stage %s does not match the task's job %d post %q stage %s: %w",
			s.TaskID, s.JobID, s.PostID, s.Stage, t.JobID, t.PostID, durationOf(t.Stage), store.ErrInvalid)
	}
	return nil
}

// taskLeaseError is nil when node holds the lease of task t (found false: no
// such task), else the *store.LeaseError to report.
func taskLeaseError(id int64, node string, t TaskLease, found bool) error {
	switch {
	case !found:
		return &store.LeaseError{TaskID: id, Node: node, Err: store.ErrNotFound}
	case !t.Leased:
		return &store.LeaseError{TaskID: id, Node: node, Err: store.ErrConflict}
	case t.Node != node:
		return &store.LeaseError{TaskID: id, Node: node, ActualNode: t.Node, Err: store.ErrConflict}
	}
	return nil
}

// MetricsDefer is a validated store.DeferMetricsTasksParams.
type MetricsDefer struct {
	store.DeferMetricsTasksParams
	NowN, DueN int64
}

// CheckDefer validates p; DueAt defaults to Now.
func CheckDefer(p store.DeferMetricsTasksParams) (d MetricsDefer, err error) {
	d.DeferMetricsTasksParams = p
	if p.Node == "" {
		return d, fmt.Errorf("defer metrics tasks: Node is required: %w", store.ErrInvalid)
	}
	if d.NowN, err = Nanos("Now", p.Now); err != nil {
		return d, fmt.Errorf("defer metrics tasks: %w", err)
	}
	d.DueN = d.NowN
	if !p.DueAt.IsZero() {
		if d.DueN, err = Nanos("DueAt", p.DueAt); err != nil {
			return d, fmt.Errorf("defer metrics tasks: %w", err)
		}
	}
	return d, nil
}

// PlanDefer decides, given the tasks found, which of d.TaskIDs are deferred
// (returned, distinct, in order) and sets errs (one per ID), as if applied
// one by one: a task already deferred earlier in the call is no longer
// leased.
func PlanDefer(d MetricsDefer, tasks map[int64]TaskLease) (ids []int64, errs []error) {
	errs = make([]error, len(d.TaskIDs))
	done := make(map[int64]bool)
	for i, id := range d.TaskIDs {
		t, found := tasks[id]
		if done[id] {
			t.Leased = false
		}
		if errs[i] = taskLeaseError(id, d.Node, t, found); errs[i] != nil {
			continue
		}
		done[id] = true
		ids = append(ids, id)
	}
	return ids, errs
}

// EncodeCounts stores a metric group as JSON text, nil (NULL) for a nil map
// so "not available" and "empty" stay apart.
func EncodeCounts(m map[string]int64) (*string, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode metrics: %w", err)
	}
	s := string(b)
	return &s, nil
}

// DecodeCounts reads what EncodeCounts stored.
func DecodeCounts(s *string) (map[string]int64, error) {
	if s == nil {
		return nil, nil
	}
	m := map[string]int64{}
	if err := json.Unmarshal([]byte(*s), &m); err != nil {
		return nil, fmt.Errorf("decode metrics: %w", err)
	}
	return m, nil
}

func durationOf(n int64) time.Duration { return time.Duration(n) }

// SortSnapshots orders a job's snapshots by post, in the order of the job's
// post IDs (posts not among them after, by ID), then by stage.
func SortSnapshots(snaps []store.MetricsSnapshot, postIDs []string) {
	pos := make(map[string]int, len(postIDs))
	for i, id := range postIDs {
		if _, dup := pos[id]; !dup {
			pos[id] = i
		}
	}
	rank := func(id string) int {
		if i, ok := pos[id]; ok {
			return i
		}
		return len(postIDs)
	}
	slices.SortStableFunc(snaps, func(a, b store.MetricsSnapshot) int {
		return cmp.Or(cmp.Compare(rank(a.PostID), rank(b.PostID)), cmp.Compare(a.PostID, b.PostID), cmp.Compare(a.Stage, b.Stage))
	})
}
