package store

import (
	"errors"
	"fmt"
)

// Sentinel errors of the store. Implementations translate driver errors into
// these at their edge and wrap them with context; match with errors.Is.
var (
	// ErrNotFound: store: the job (or other row) does not exist.
	ErrNotFound = errors.New("store: not found")

	// ErrConflict: store: the row changed under the caller. The job was no
	// longer in the expected state, or the caller's lease (node, attempt) was
	// taken over. Nothing was changed; reload and decide again.
	ErrConflict = errors.New("store: conflict")

	// ErrIllegalTransition: store: the requested edge is not in the job
	// state machine (see LegalTransition). A programming error in the caller,
	// never a race.
	ErrIllegalTransition = errors.New("store: illegal transition")

	// ErrInvalid: store: the parameters are malformed (a missing Now, an
	// unknown status, a bad page token). Nothing was changed.
	ErrInvalid = errors.New("store: invalid parameters")

	// ErrSchemaTooNew: store: the database was migrated by a newer Herald.
	// This binary refuses to touch it rather than misread it; upgrade Herald.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this Herald")

	// ErrSchemaTooOld: store: the database lacks migrations this binary
	// needs; run `herald migrate` (or open with migration enabled).
	ErrSchemaTooOld = errors.New("store: database schema is older than this Herald")

	// ErrUnsupportedURL: store: a database URL names no known driver.
	ErrUnsupportedURL = errors.New("store: unsupported database URL")
)

// TransitionError reports a transition that did not happen. It matches
// ErrIllegalTransition (the edge is not in the state machine; Actual is not
// read), ErrConflict (the job was not in From, or not under the caller's
// lease) or ErrNotFound through errors.Is.
type TransitionError struct {
	JobID int64
	From  Status
	To    Status
	// Node and Attempt are the caller's claim on the job, when it made one.
	Node    string
	Attempt int
	// Actual, ActualNode and ActualAttempt are what the store found, for a
	// conflict.
	Actual        Status
	ActualNode    string
	ActualAttempt int
	// Err is ErrIllegalTransition, ErrConflict or ErrNotFound.
	Err error
}

func (e *TransitionError) Error() string {
	switch {
	case errors.Is(e.Err, ErrIllegalTransition), errors.Is(e.Err, ErrNotFound):
		return fmt.Sprintf("job %d: %s -> %s: %v", e.JobID, e.From, e.To, e.Err)
	case e.Actual == e.From && e.From == StatusRunning:
		return fmt.Sprintf("job %d: %s -> %s: lease is node %q attempt %d, not node %q attempt %d: %v",
			e.JobID, e.From, e.To, e.ActualNode, e.ActualAttempt, e.Node, e.Attempt, e.Err)
	case e.Actual == e.From:
		return fmt.Sprintf("job %d: %s -> %s: job is at attempt %d, not %d: %v",
			e.JobID, e.From, e.To, e.ActualAttempt, e.Attempt, e.Err)
	default:
		return fmt.Sprintf("job %d: %s -> %s: job is %s: %v", e.JobID, e.From, e.To, e.Actual, e.Err)
	}
}

func (e *TransitionError) Unwrap() error { return e.Err }

// LeaseError reports a lease operation (renew, record posts, complete or
// defer a metrics task) by a node that no longer holds the lease. It matches
// ErrConflict or ErrNotFound.
type LeaseError struct {
	// TaskID is set, and JobID, Attempt and Actual are not, for the lease
	// of a metrics task; ActualNode is then the task's lease owner, empty
	// when it is not leased.
	TaskID  int64
	JobID   int64
	Node    string
	Attempt int
	// Actual, ActualNode and ActualAttempt are what the store found.
	Actual        Status
	ActualNode    string
	ActualAttempt int
	// Err is ErrConflict or ErrNotFound.
	Err error
}

func (e *LeaseError) Error() string {
	if e.TaskID != 0 {
		switch {
		case errors.Is(e.Err, ErrNotFound):
			return fmt.Sprintf("metrics task %d: lease of node %q: %v", e.TaskID, e.Node, e.Err)
		case e.ActualNode == "":
			return fmt.Sprintf("metrics task %d: lease of node %q lost: task is not leased: %v", e.TaskID, e.Node, e.Err)
		}
		return fmt.Sprintf("metrics task %d: lease of node %q lost: node %q holds it: %v", e.TaskID, e.Node, e.ActualNode, e.Err)
	}
	if errors.Is(e.Err, ErrNotFound) {
		return fmt.Sprintf("job %d: lease of node %q attempt %d: %v", e.JobID, e.Node, e.Attempt, e.Err)
	}
	return fmt.Sprintf("job %d: lease of node %q attempt %d lost: job is %s, node %q attempt %d: %v",
		e.JobID, e.Node, e.Attempt, e.Actual, e.ActualNode, e.ActualAttempt, e.Err)
}

func (e *LeaseError) Unwrap() error { return e.Err }

// SchemaError reports a database whose schema version does not match this
// binary. It matches ErrSchemaTooNew or ErrSchemaTooOld.
type SchemaError struct {
	Version SchemaVersion
	// Err is ErrSchemaTooNew or ErrSchemaTooOld.
	Err error
}

func (e *SchemaError) Error() string {
	if errors.Is(e.Err, ErrSchemaTooNew) {
		return fmt.Sprintf("database schema version %d is newer than this Herald (knows up to %d): upgrade Herald",
			e.Version.Database, e.Version.Binary)
	}
	return fmt.Sprintf("database schema version %d is older than this Herald (needs %d): run herald migrate",
		e.Version.Database, e.Version.Binary)
}

func (e *SchemaError) Unwrap() error { return e.Err }
