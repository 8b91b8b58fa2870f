package store

// Status is the state of a job. The zero value is not a status; it stands for
// "no job yet" in the creation event.
type Status string

// The job states. See [LegalTransition] for the edges between them.
const (
	// StatusPlanned: recorded, waiting for its due time to be claimed.
	StatusPlanned Status = "planned"
	// StatusRunning: claimed by a node that holds a lease and is publishing.
	StatusRunning Status = "running"
	// StatusSucceeded: published. Terminal.
	StatusSucceeded Status = "succeeded"
	// StatusRetrying: a transient failure; claimable again at its due time.
	StatusRetrying Status = "retrying"
	// StatusDead: a permanent failure, attempts exhausted or past the
	// deadline. An operator may retry (back to planned) or cancel it.
	StatusDead Status = "dead"
	// StatusUnknown: the lease expired mid-publish, so the post may or may
	// not exist. Reconciliation against the account's recent posts decides.
	StatusUnknown Status = "unknown"
	// StatusCancelled: stopped by an operator. Terminal.
	StatusCancelled Status = "cancelled"
	// StatusMissed: a fire beyond its schedule's catch-up window. Terminal;
	// recorded so the gap is visible, never silent.
	StatusMissed Status = "missed"
)

// Statuses lists every status, in the order above.
func Statuses() []Status {
	return []Status{StatusPlanned, StatusRunning, StatusSucceeded, StatusRetrying,
		StatusDead, StatusUnknown, StatusCancelled, StatusMissed}
}

// Valid reports whether s is one of the statuses above.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// Terminal reports whether no transition leaves s.
func (s Status) Terminal() bool { return s.Valid() && len(transitions[s]) == 0 }

// transitions is the state machine: transitions[from][to] holds for each legal
// edge. It is never written after initialisation.
var transitions = map[Status]map[Status]bool{
	StatusPlanned:   {StatusRunning: true, StatusMissed: true, StatusCancelled: true},
	StatusRunning:   {StatusSucceeded: true, StatusRetrying: true, StatusDead: true, StatusUnknown: true},
	StatusRetrying:  {StatusRunning: true, StatusCancelled: true},
	StatusUnknown:   {StatusSucceeded: true, StatusRetrying: true, StatusDead: true},
	StatusDead:      {StatusPlanned: true, StatusCancelled: true},
	StatusSucceeded: {},
	StatusCancelled: {},
	StatusMissed:    {},
}

// LegalTransition reports whether from -> to is an edge of the job state
// machine. Creation (from "" to planned or missed) is not a transition.
func LegalTransition(from, to Status) bool { return transitions[from][to] }

// Trigger says why a job exists.
type Trigger string

const (
	// TriggerScheduled: the schedule's timer fired on time.
	TriggerScheduled Trigger = "scheduled"
	// TriggerCatchup: a fire found late (after downtime) but within the
	// schedule's catch-up window.
	TriggerCatchup Trigger = "catchup"
	// TriggerManual: an operator's "trigger now".
	TriggerManual Trigger = "manual"
)

// Valid reports whether t is one of the triggers above.
func (t Trigger) Valid() bool {
	return t == TriggerScheduled || t == TriggerCatchup || t == TriggerManual
}
