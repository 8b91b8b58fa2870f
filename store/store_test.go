package store_test

import (
	"errors"
	"testing"

	"github.com/herald-social/herald/store"
)

// TestLegalTransition pins the state machine to its contract: exactly these
// edges are legal.
func TestLegalTransition(t *testing.T) {
	t.Parallel()
	type edge struct{ from, to store.Status }
	legal := map[edge]bool{
		{store.StatusPlanned, store.StatusRunning}:    true,
		{store.StatusPlanned, store.StatusMissed}:     true,
		{store.StatusPlanned, store.StatusCancelled}:  true,
		{store.StatusRunning, store.StatusSucceeded}:  true,
		{store.StatusRunning, store.StatusRetrying}:   true,
		{store.StatusRunning, store.StatusDead}:       true,
		{store.StatusRunning, store.StatusUnknown}:    true,
		{store.StatusRetrying, store.StatusRunning}:   true,
		{store.StatusRetrying, store.StatusCancelled}: true,
		{store.StatusUnknown, store.StatusSucceeded}:  true,
		{store.StatusUnknown, store.StatusRetrying}:   true,
		{store.StatusUnknown, store.StatusDead}:       true,
		{store.StatusDead, store.StatusPlanned}:       true,
		{store.StatusDead, store.StatusCancelled}:     true,
	}
	all := append(store.Statuses(), "", "paused")
	for _, from := range all {
		for _, to := range all {
			if got := store.LegalTransition(from, to); got != legal[edge{from, to}] {
				t.Errorf("LegalTransition(%q, %q) = %v", from, to, got)
			}
		}
	}
	for _, s := range store.Statuses() {
		terminal := s == store.StatusSucceeded || s == store.StatusCancelled || s == store.StatusMissed
		if !s.Valid() || s.Terminal() != terminal {
			t.Errorf("%s: Valid %v, Terminal %v", s, s.Valid(), s.Terminal())
		}
	}
	if store.Status("").Valid() || store.Status("paused").Valid() {
		t.Error("unknown statuses are valid")
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err      error
		is       error
		isNot    error
		wantText string
	}{
		{&store.SchemaError{Version: store.SchemaVersion{Database: 7, Binary: 3}, Err: store.ErrSchemaTooNew},
			store.ErrSchemaTooNew, store.ErrSchemaTooOld,
			"database schema version 7 is newer than this Herald (knows up to 3): upgrade Herald"},
		{&store.SchemaError{Version: store.SchemaVersion{Database: 0, Binary: 3}, Err: store.ErrSchemaTooOld},
			store.ErrSchemaTooOld, store.ErrSchemaTooNew,
			"database schema version 0 is older than this Herald (needs 3): run herald migrate"},
		{&store.TransitionError{JobID: 4, From: store.StatusSucceeded, To: store.StatusRunning, Err: store.ErrIllegalTransition},
			store.ErrIllegalTransition, store.ErrConflict,
			"job 4: succeeded -> running: store: illegal transition"},
		{&store.TransitionError{JobID: 4, From: store.StatusRunning, To: store.StatusSucceeded, Node: "a", Attempt: 1,
			Actual: store.StatusRunning, ActualNode: "b", ActualAttempt: 2, Err: store.ErrConflict},
			store.ErrConflict, store.ErrIllegalTransition,
			`job 4: running -> succeeded: lease is node "b" attempt 2, not node "a" attempt 1: store: conflict`},
		{&store.TransitionError{JobID: 4, From: store.StatusPlanned, To: store.StatusCancelled, Actual: store.StatusRunning, Err: store.ErrConflict},
			store.ErrConflict, store.ErrNotFound,
			"job 4: planned -> cancelled: job is running: store: conflict"},
		{&store.LeaseError{JobID: 4, Node: "a", Attempt: 1, Actual: store.StatusUnknown, ActualNode: "a", ActualAttempt: 1, Err: store.ErrConflict},
			store.ErrConflict, store.ErrNotFound,
			`job 4: lease of node "a" attempt 1 lost: job is unknown, node "a" attempt 1: store: conflict`},
		{&store.LeaseError{TaskID: 9, Node: "a", ActualNode: "b", Err: store.ErrConflict},
			store.ErrConflict, store.ErrNotFound,
			`metrics task 9: lease of node "a" lost: node "b" holds it: store: conflict`},
		{&store.LeaseError{TaskID: 9, Node: "a", Err: store.ErrConflict},
			store.ErrConflict, store.ErrNotFound,
			`metrics task 9: lease of node "a" lost: task is not leased: store: conflict`},
		{&store.LeaseError{TaskID: 9, Node: "a", Err: store.ErrNotFound},
			store.ErrNotFound, store.ErrConflict,
			`metrics task 9: lease of node "a": store: not found`},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.is) || errors.Is(c.err, c.isNot) {
			t.Errorf("%v: Is(%v) = %v, Is(%v) = %v", c.err, c.is, errors.Is(c.err, c.is), c.isNot, errors.Is(c.err, c.isNot))
		}
		if c.err.Error() != c.wantText {
			t.Errorf("Error() = %q\n      want %q", c.err.Error(), c.wantText)
		}
	}
}
