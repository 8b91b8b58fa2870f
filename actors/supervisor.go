package actors

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/schedules"
)

// supervisor owns a shard of the schedule actors (the schedules whose ids
// hash to it; see Runtime.Apply): it diffs each configuration it is given
// by schedule id and spec hash and spawns, updates or stops only what
// changed. A panicking schedule actor is restarted; one that fails more than
// maxRestarts times within restartWindow is stopped and reported, and the
// others go on. Its own Receive is kept trivial: if the supervisor itself
// failed, its restart would stop every child.
//
// Dormancy. A schedule with nothing to catch up starts dormant: the
// supervisor arms its first timer itself and spawns its actor only when
// that timer goes off. The actor handles the fire and runs the schedule;
// after a fire, an actor whose next fire is more than passivateAfter away
// hands the schedule back, to wait dormant again. Why: spawning is most of
// what a start costs, about 10 µs of protoactor's work and 1.3 KB per
// actor, while most schedules of a large plan fire hours, days or months
// apart. Akka's passivated entities and Orleans's virtual actors make the
// same trade. A million dormant schedules start in a fraction of the time
// and memory, and a rarely firing schedule pays a spawn per fire instead
// of an actor's memory in between. The supervisor never runs a schedule's
// code unguarded: if computing a dormant schedule's fire panics, it spawns
// the actor instead, which then fails under supervision.
type supervisor struct {
	rt       *Runtime
	children map[string]*child // by schedule id
	byPID    map[string]string // pid id -> schedule id
	stopping bool              // its children are being stopped with it
	gen      uint32            // counts applies; a child seen by the current one has seen == gen
}

type child struct {
	pid      *actor.PID // nil while dormant
	hash     string
	schedule *schedules.Schedule // the definition to hand a restarted actor
	failed   bool                // stopped after repeated failures; respawned only when its spec changes
	// seen is the supervisor's gen of the last configuration that named
	// it: a mark instead of a set of the ids seen, which at a million
	// schedules was a map of a million strings per Apply.
	seen uint32

	// A dormant child's timer (nil when it has no next fire), the message
	// it sends, and the instant its next fire was looked for after.
	timer  clock.Timer
	msg    *fireMsg
	cursor time.Time
}

const (
	maxRestarts   = 3
	restartWindow = time.Minute
)

func (s *supervisor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *applyShard:
		c.Respond(s.apply(c, m))
	case *wakeMsg:
		s.wake(c, m)
	case *passivateMsg:
		s.passivate(c, m)
	case *countChildren:
		n := &childCounts{}
		for _, ch := range s.children {
			if ch.pid == nil {
				n.dormant++
			} else {
				n.active++
			}
		}
		c.Respond(n)
	case *actor.Stopping:
		s.stopping = true
		for _, ch := range s.children {
			s.sleepOff(ch)
		}
	case *actor.Terminated:
		if !s.stopping {
			s.terminated(m)
		}
	}
}

func (s *supervisor) apply(c actor.Context, m *applyShard) *ApplyResult {
	res := &ApplyResult{}
	// With no children yet (the first Apply), every enabled schedule is
	// new: looking each up in a map of a million slots cost a second.
	fresh := len(s.children) == 0
	if fresh {
		// Sized once: growing maps to a million entries costs seconds.
		s.children = make(map[string]*child, len(m.schedules))
		s.byPID = make(map[string]string, len(m.schedules))
	}
	s.gen++
	now := s.rt.opts.Clock.Now()
	for _, sch := range m.schedules {
		if !sch.Enabled {
			continue
		}
		var ch *child
		ok := false
		if !fresh {
			ch, ok = s.children[sch.ID]
		}
		switch {
		case !ok:
			s.start(c, sch, m.last[sch.ID].PlannedAt, now)
			res.Added++
		case ch.hash == sch.Hash:
			ch.seen = s.gen
			res.Unchanged++
		case ch.failed:
			delete(s.byPID, ch.pid.Id)
			s.spawn(c, sch, m.last[sch.ID].PlannedAt)
			res.Changed++
		case ch.pid == nil: // dormant
			ch.hash, ch.schedule, ch.seen = sch.Hash, sch, s.gen
			s.sleepOff(ch)
			if !s.sleep(c, ch, latest(ch.cursor, now)) {
				s.spawn(c, sch, time.Time{})
			}
			res.Changed++
		default:
			ch.hash, ch.schedule, ch.seen = sch.Hash, sch, s.gen
			c.Send(ch.pid, &updateSchedule{schedule: sch})
			res.Changed++
		}
	}
	for id, ch := range s.children {
		if ch.seen == s.gen {
			continue
		}
		delete(s.children, id)
		if ch.pid == nil {
			s.sleepOff(ch)
		} else {
			delete(s.byPID, ch.pid.Id)
			if !ch.failed {
				c.Stop(ch.pid)
			}
		}
		res.Removed++
	}
	return res
}

// start starts a schedule new to this supervisor: dormant if it has
// nothing to catch up, else with its actor at once.
func (s *supervisor) start(c actor.Context, sch *schedules.Schedule, last, now time.Time) {
	if !s.rt.opts.EagerActors {
		ch := &child{hash: sch.Hash, schedule: sch, seen: s.gen}
		if s.startDormant(c, ch, last, now) {
			s.children[sch.ID] = ch
			return
		}
	}
	s.spawn(c, sch, last)
}

// startDormant arms a new child's first timer if it has nothing to catch
// up (the plan its actor would make is only to arm it). It reports false
// when the child needs its actor, or when the schedule's code panicked.
func (s *supervisor) startDormant(c actor.Context, ch *child, last, now time.Time) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	sch := ch.schedule
	plan := planStart(sch.NextFire, sch.Kind == schedules.KindAt, last, now, sch.Catchup)
	if plan.CatchUp != nil || len(plan.Missed) > 0 || plan.Truncated {
		return false
	}
	return s.sleep(c, ch, plan.ResumeAfter)
}

// sleep arms a dormant child's timer for its first fire after t (none if
// the schedule has no more fires). It reports false if the schedule's code
// panicked.
func (s *supervisor) sleep(c actor.Context, ch *child, t time.Time) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	ch.cursor = t
	f, more := ch.schedule.NextFire(t)
	if !more {
		return true
	}
	msg := &fireMsg{fire: f}
	self, root, pending, id := c.Self(), c.ActorSystem().Root, &s.rt.recorder.pending, ch.schedule.ID
	ch.msg = msg
	ch.timer = s.rt.afterFuncAt(f.At, func() {
		pending.fired()
		root.Send(self, &wakeMsg{id: id, msg: msg})
	})
	return true
}

// sleepOff disarms a dormant child's timer.
func (s *supervisor) sleepOff(ch *child) {
	if ch.pid == nil {
		s.rt.disarm(ch.timer, ch.msg)
		ch.timer, ch.msg = nil, nil
	}
}

// wake spawns the actor of a dormant child whose timer went off, to handle
// the fire. A wake for a child since changed, removed or stopped is only
// settled: its timer was disarmed after it went off.
func (s *supervisor) wake(c actor.Context, m *wakeMsg) {
	ch := s.children[m.id]
	if s.stopping || ch == nil || ch.pid != nil || ch.msg != m.msg {
		m.msg.settle(&s.rt.recorder.pending)
		return
	}
	ch.timer, ch.msg = nil, nil
	ch.pid = c.SpawnPrefix(s.rt.scheduleProps, "s")
	c.Send(ch.pid, &initSchedule{schedule: ch.schedule, due: m.msg, cursor: ch.cursor})
	s.byPID[ch.pid.Id] = m.id
}

// passivate stops the actor of a schedule whose next fire is far away, and
// holds the schedule dormant again from the actor's cursor. The child may
// have changed since the actor asked: it is re-armed with its current
// schedule (the actor's queued update, dropped by the stop, is moot).
func (s *supervisor) passivate(c actor.Context, m *passivateMsg) {
	ch := s.children[m.id]
	if s.stopping || ch == nil || ch.pid == nil || ch.failed || !ch.pid.Equal(m.from) {
		return
	}
	delete(s.byPID, ch.pid.Id)
	c.Stop(ch.pid)
	ch.pid = nil
	if !s.sleep(c, ch, m.cursor) {
		s.spawn(c, ch.schedule, time.Time{})
	}
}

// spawn starts a schedule's actor at once, replacing any child of its id.
func (s *supervisor) spawn(c actor.Context, sch *schedules.Schedule, last time.Time) {
	pid := c.SpawnPrefix(s.rt.scheduleProps, "s")
	c.Send(pid, &initSchedule{schedule: sch, last: last})
	s.children[sch.ID] = &child{pid: pid, hash: sch.Hash, schedule: sch, seen: s.gen}
	s.byPID[pid.Id] = sch.ID
}

// terminated hears of a child that stopped. Children this supervisor
// stopped are already forgotten; any other stopped after failing too often.
func (s *supervisor) terminated(m *actor.Terminated) {
	id, ok := s.byPID[m.Who.Id]
	if !ok {
		return
	}
	if ch := s.children[id]; ch != nil {
		ch.failed = true
	}
	s.rt.logger.Error("schedule actor stopped after repeated failures; fix the schedule or restart Herald",
		slog.String("schedule_id", id), slog.Int("restarts", maxRestarts), slog.Duration("within", restartWindow))
}

// restartStrategy restarts a panicking schedule actor (at most maxRestarts
// times within restartWindow, then stops it) and hands the restarted actor
// its schedule again: the shared Props produce blank actors. It runs on the
// supervisor's goroutine, so it may read the supervisor's maps.
type restartStrategy struct {
	inner actor.SupervisorStrategy
	sup   *supervisor
}

func newRestartStrategy(sup *supervisor) *restartStrategy {
	return &restartStrategy{sup: sup, inner: actor.NewOneForOneStrategy(maxRestarts, restartWindow, func(reason any) actor.Directive {
		sup.rt.logger.Error("schedule actor panicked; restarting", slog.Any("reason", reason))
		return actor.RestartDirective
	})}
}

func (r *restartStrategy) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason, message any) {
	r.inner.HandleFailure(sys, sup, child, rs, reason, message)
	if rs.FailureCount() == 0 {
		return // the inner strategy stopped it (and reset its statistics)
	}
	r.sup.rt.opts.Observer.ActorRestarted()
	if ch := r.sup.children[r.sup.byPID[child.Id]]; ch != nil && ch.pid != nil && ch.pid.Equal(child) {
		// A restarted actor resumes from now: whatever it had fired is
		// recorded, and a fire recorded twice is a no-op.
		sys.Root.Send(child, &initSchedule{schedule: ch.schedule})
	}
}

// scheduleCounts adds up the supervisors' dormant schedules and schedule
// actors.
func (rt *Runtime) scheduleCounts() (dormant, active int, err error) {
	for _, pid := range rt.supervisors {
		res, err := rt.system.Root.RequestFuture(pid, &countChildren{}, 10*time.Second).Result()
		if err != nil {
			return 0, 0, err
		}
		n := res.(*childCounts)
		dormant, active = dormant+n.dormant, active+n.active
	}
	return dormant, active, nil
}
