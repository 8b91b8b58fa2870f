package actors

import (
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

// applyShard hands one supervisor its part of a validated configuration:
// the enabled and disabled schedules whose ids hash to it. It diffs them
// against the ones it runs by schedule id and spec hash.
type applyShard struct {
	schedules []*schedules.Schedule
	// last holds each schedule's latest recorded fire, so that a schedule
	// (re)started after downtime can catch up.
	last map[string]store.Fire
}

// ApplyResult tells what an Apply changed.
type ApplyResult struct {
	Added, Removed, Changed, Unchanged int
}

// fireMsg is a schedule actor's timer going off. Each arming has its own
// message, so the actor tells a cancelled timer's message (which may
// already be in the mailbox) from its current one by identity.
type fireMsg struct {
	fire schedules.Fire
	// settled is set once the message has left the recorder's count of
	// fires on their way (see pendingFires): handled, or cancelled.
	settled atomic.Bool
}

// settle takes the message out of p's count, once whatever the number of
// calls: the actor settles it when it handles it and when it disarms its
// timer after the timer went off, whichever comes first.
func (m *fireMsg) settle(p *pendingFires) {
	if m.settled.CompareAndSwap(false, true) {
		p.done()
	}
}

// initSchedule gives a new (or restarted) schedule actor its schedule and
// the planned instant of its latest recorded fire (zero: none, or resume
// from now). An actor woken from dormancy gets the fire that woke it
// instead, and the instant its supervisor looked for it after.
type initSchedule struct {
	schedule *schedules.Schedule
	last     time.Time
	due      *fireMsg
	cursor   time.Time
}

// passivateMsg is a schedule actor giving its schedule back to its
// supervisor, to wait dormant for its next fire after cursor: the actor is
// then stopped.
type passivateMsg struct {
	id     string
	from   *actor.PID
	cursor time.Time
}

// countChildren asks a supervisor how many of its schedules are dormant
// and how many have their actor.
type countChildren struct{}

type childCounts struct{ dormant, active int }

// wakeMsg is a dormant schedule's timer going off: its supervisor spawns
// the schedule's actor to handle msg.
type wakeMsg struct {
	id  string
	msg *fireMsg
}

// updateSchedule replaces a running schedule actor's definition.
type updateSchedule struct {
	schedule *schedules.Schedule
}
