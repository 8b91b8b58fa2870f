package actors

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

// scheduleActor keeps one timer for its schedule's next fire. At the fire
// it hands the job to the recorder (which makes it durable and passes it on
// to the publishers) and arms the next timer at once: a slow store never
// delays the following fire.
//
// It is kept small on purpose: a node may hold one per enabled schedule,
// up to a million of them. Most wait dormant instead, without an actor (see
// supervisor), until their first fire.
type scheduleActor struct {
	rt       *Runtime
	schedule *schedules.Schedule
	last     time.Time // planned instant of the latest recorded fire, at init
	timer    clock.Timer
	msg      *fireMsg  // what timer sends; nil when disarmed
	cursor   time.Time // planned instant of the latest fire handled
}

func (a *scheduleActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *initSchedule:
		a.schedule, a.last = m.schedule, m.last
		if m.due != nil {
			// Woken from dormancy by its fire: nothing was missed.
			a.cursor = m.cursor
			a.fired(c, m.due)
			return
		}
		a.start(c)
	case *fireMsg:
		if m == a.msg {
			a.fired(c, m)
			return
		}
		m.settle(&a.rt.recorder.pending)
	case *updateSchedule:
		if a.schedule == nil { // restarted, and not yet re-initialised
			a.schedule = m.schedule
			a.start(c)
			return
		}
		a.schedule = m.schedule
		a.arm(c, a.latest(a.rt.opts.Clock.Now()))
	case *actor.Stopping, *actor.Restarting:
		a.disarm()
	}
}

// start applies the catch-up policy to whatever was missed while no actor
// ran this schedule, then arms the timer.
func (a *scheduleActor) start(c actor.Context) {
	now := a.rt.opts.Clock.Now()
	s := a.schedule
	plan := planStart(s.NextFire, s.Kind == schedules.KindAt, a.last, now, s.Catchup)
	for _, f := range plan.Missed {
		a.rt.recorder.record(store.NewJob{
			ScheduleID: s.ID, PlannedAt: f.Planned, DueAt: f.At, Status: store.StatusMissed,
			Trigger: store.TriggerScheduled, CorrelationID: newCorrelationID(),
			Detail: "missed: beyond catch-up " + s.Catchup.String(), Revision: a.rt.revision(),
		})
	}
	if plan.Truncated {
		a.rt.logger.Warn("missed fires beyond the record limit were skipped unrecorded",
			slog.String("schedule_id", s.ID), slog.Int("recorded", len(plan.Missed)))
	}
	if plan.CatchUp != nil {
		a.fire(c, *plan.CatchUp, store.TriggerCatchup)
	}
	a.cursor = plan.ResumeAfter
	a.arm(c, plan.ResumeAfter)
}

func (a *scheduleActor) fire(c actor.Context, f schedules.Fire, trigger store.Trigger) {
	a.cursor = f.Planned
	if a.rt.paused(a.schedule.ID, a.rt.opts.Clock.Now()) {
		// Paused by an operator: the fire is skipped, not recorded, so
		// resuming does not publish a backlog.
		a.rt.logger.Info("fire skipped", slog.String("schedule_id", a.schedule.ID),
			slog.String("planned_at", f.Planned.UTC().Format(time.RFC3339Nano)), slog.String("reason", string(SkipPaused)))
		a.rt.opts.Observer.FireSkipped(a.schedule.ID, SkipPaused)
		return
	}
	a.rt.recorder.record(store.NewJob{
		ScheduleID: a.schedule.ID, PlannedAt: f.Planned, DueAt: f.At,
		Trigger: trigger, CorrelationID: newCorrelationID(), Render: renderer(a.schedule, f.Planned),
		Revision: a.rt.revision(),
	})
}

// arm sets the timer for the first fire planned after t. A fire whose time
// has already come (the process was busy) is sent at once.
func (a *scheduleActor) arm(c actor.Context, after time.Time) {
	a.disarm()
	f, ok := a.schedule.NextFire(after)
	if !ok {
		return // the schedule has no more fires
	}
	msg := &fireMsg{fire: f}
	self, root, pending := c.Self(), c.ActorSystem().Root, &a.rt.recorder.pending
	a.msg = msg
	a.timer = a.rt.afterFuncAt(f.At, func() {
		pending.fired()
		root.Send(self, msg)
	})
}

// fired handles the scheduled fire m brings: it records the fire, arms
// the next, settles m (after the record: see pendingFires) and, if the
// next fire is far away, hands the schedule back to the supervisor.
func (a *scheduleActor) fired(c actor.Context, m *fireMsg) {
	a.fire(c, m.fire, store.TriggerScheduled)
	a.arm(c, m.fire.Planned)
	m.settle(&a.rt.recorder.pending)
	a.passivate(c)
}

// passivateAfter is how far away an actor's next fire must be for the
// actor to give its schedule back to its supervisor, to wait dormant again
// (see supervisor). Why ten minutes: an actor costs about 1.3 KB to keep
// and 10 µs to spawn, so a schedule firing every minute keeps its actor,
// and an hourly, daily or yearly one pays a spawn per fire instead of the
// memory in between.
const passivateAfter = 10 * time.Minute

// passivate hands the schedule back to the supervisor after a fire, if its
// next fire is more than passivateAfter away or it has none. The timer is
// disarmed first: the supervisor arms its own from the cursor, so a fire
// due meanwhile (a clock that jumped) is armed again, not lost.
func (a *scheduleActor) passivate(c actor.Context) {
	if a.rt.opts.EagerActors {
		return
	}
	if a.msg != nil && a.msg.fire.At.Sub(a.rt.opts.Clock.Now()) <= passivateAfter {
		return
	}
	a.disarm()
	c.Send(c.Parent(), &passivateMsg{id: a.schedule.ID, from: c.Self(), cursor: a.cursor})
}

// afterFuncAt runs f at instant at on the schedule timers.
func (rt *Runtime) afterFuncAt(at time.Time, f func()) clock.Timer {
	if h, ok := rt.opts.Timers.(*clock.Heap); ok {
		return h.AfterFuncAt(at, f) // the exact instant: a burst stays one
	}
	return rt.opts.Timers.AfterFunc(at.Sub(rt.opts.Timers.Now()), f)
}

// disarm cancels the timer. If it already went off, its message is on its
// way (or handled): it is settled here, because a stopping actor never
// receives it and the recorder must not wait for it.
func (a *scheduleActor) disarm() {
	a.rt.disarm(a.timer, a.msg)
	a.timer, a.msg = nil, nil
}

// disarm stops timer, which sends msg, and settles msg if it went off.
func (rt *Runtime) disarm(timer clock.Timer, msg *fireMsg) {
	if timer != nil && !timer.Stop() {
		msg.settle(&rt.recorder.pending)
	}
}

// latest is the instant after which an updated schedule looks for its next
// fire: now, or the last fire handled if that is later (a fire planned
// ahead of now because of jitter is not repeated).
func (a *scheduleActor) latest(now time.Time) time.Time { return latest(a.cursor, now) }

func latest(cursor, now time.Time) time.Time {
	if cursor.After(now) {
		return cursor
	}
	return now
}

// newCorrelationID returns a random id carried through the logs and events
// of everything done for one job.
func newCorrelationID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
