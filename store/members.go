package store

import "time"

// Node is one Herald process as it last recorded itself (Heartbeat), so
// operators see the cluster and which configuration each node runs. All
// times are UTC.
type Node struct {
	// ID is the node's --node-id, unique in the cluster.
	ID string
	// Address is where others reach the node's API (a URL or host:port).
	Address string
	// Version is the Herald build.
	Version string
	// Revision is the configuration revision the node runs.
	Revision string
	// StartedAt is when the process started; LastSeen its last heartbeat.
	StartedAt time.Time
	LastSeen  time.Time
	// DryRun is true when the node publishes nothing.
	DryRun bool
	// RedisHealth is "" without Redis, "ok", or "degraded: <why>".
	RedisHealth string
	// StoreHealth is "ok" when the heartbeat was written (a node whose
	// store is unreachable stops beating: its LastSeen ages).
	StoreHealth string
	// InFlight counts the jobs the node was publishing (leases held).
	InFlight int
}

// HeartbeatParams records a node (insert or replace) as seen at Now.
type HeartbeatParams struct {
	// Node is the node's state; Node.ID is required, Node.LastSeen is
	// ignored (Now is written).
	Node Node
	// Now stamps LastSeen (required).
	Now time.Time
	// ForgetBefore, when set, deletes the nodes (other than this one) not
	// seen since: a node that went away without saying so stops being
	// listed after a while.
	ForgetBefore time.Time
}

// Pause holds a schedule's fires back until an operator resumes it (or
// Until passes): runtime state that survives restarts and is shared by
// every node. All times are UTC.
type Pause struct {
	ScheduleID string
	// Note is the operator's reason.
	Note string
	// At is when the pause was made.
	At time.Time
	// Until, when set, ends the pause by itself; zero: until resumed.
	Until time.Time
}

// Active reports whether the pause is in force at now.
func (p Pause) Active(now time.Time) bool { return p.Until.IsZero() || now.Before(p.Until) }

// PauseParams pauses one schedule, replacing any pause it has.
type PauseParams struct {
	// ScheduleID is required; the store does not check that it is
	// configured (configurations change, pauses outlive them).
	ScheduleID string
	Note       string
	// At is required.
	At time.Time
	// Until is optional (zero: until resumed); when set it must be after
	// At.
	Until time.Time
}

// ListPausesParams lists the pauses in force at Now.
type ListPausesParams struct {
	// Now is required: pauses whose Until is not after it are not listed
	// (and may be deleted).
	Now time.Time
}
