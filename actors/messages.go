package actors

import (
	"time"

	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

// ApplyConfig hands a validated configuration to the Supervisor, which
// diffs it against the running one by schedule id and spec hash.
type ApplyConfig struct {
	Config *schedules.Config
	// Last holds the planned instant of each schedule's latest recorded
	// fire, so that a schedule (re)started after downtime can catch up.
	Last          map[string]time.Time
	CorrelationID string
}

// ApplyResult answers ApplyConfig with what changed.
type ApplyResult struct {
	Added, Removed, Changed, Unchanged int
}

// fireMsg is a schedule actor's timer going off. gen ties it to the arming
// that sent it: a cancelled timer's message may already be in the mailbox.
type fireMsg struct {
	gen  uint64
	fire schedules.Fire
}

// initSchedule gives a new (or restarted) schedule actor its schedule and
// the planned instant of its latest recorded fire (zero: none, or resume
// from now).
type initSchedule struct {
	schedule *schedules.Schedule
	last     time.Time
}

// updateSchedule replaces a running schedule actor's definition.
type updateSchedule struct {
	schedule *schedules.Schedule
}

// publishMsg asks a publisher to publish a job this node has claimed (by
// the recorder or the dispatcher). It is a copy of the job row as claimed,
// not shared state.
type publishMsg struct {
	Job store.Job
}
