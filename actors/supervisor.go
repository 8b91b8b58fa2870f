package actors

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/herald-social/herald/schedules"
)

// supervisor owns a shard of the schedule actors (the schedules whose ids
// hash to it; see Runtime.Apply): it diffs each configuration it is given
// by schedule id and spec hash and spawns, updates or stops only what
// changed. A panicking schedule actor is restarted; one that fails more than
// maxRestarts times within restartWindow is stopped and reported, and the
// others go on. Its own Receive is kept trivial: if the supervisor itself
// failed, its restart would stop every child.
type supervisor struct {
	rt       *Runtime
	children map[string]*child // by schedule id
	byPID    map[string]string // pid id -> schedule id
	stopping bool              // its children are being stopped with it
	gen      uint32            // counts applies; a child seen by the current one has seen == gen
}

type child struct {
	pid      *actor.PID
	hash     string
	schedule *schedules.Schedule // the definition to hand a restarted actor
	failed   bool                // stopped after repeated failures; respawned only when its spec changes
	// seen is the supervisor's gen of the last configuration that named
	// it: a mark instead of a set of the ids seen, which at a million
	// schedules was a map of a million strings per Apply.
	seen uint32
}

const (
	maxRestarts   = 3
	restartWindow = time.Minute
)

func (s *supervisor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *applyShard:
		c.Respond(s.apply(c, m))
	case *actor.Stopping:
		s.stopping = true
	case *actor.Terminated:
		if !s.stopping {
			s.terminated(m)
		}
	}
}

func (s *supervisor) apply(c actor.Context, m *applyShard) *ApplyResult {
	res := &ApplyResult{}
	if len(s.children) == 0 {
		// Sized once: growing maps to a million entries costs seconds.
		s.children = make(map[string]*child, len(m.schedules))
		s.byPID = make(map[string]string, len(m.schedules))
	}
	s.gen++
	for _, sch := range m.schedules {
		if !sch.Enabled {
			continue
		}
		ch, ok := s.children[sch.ID]
		switch {
		case !ok:
			s.spawn(c, sch, m.last[sch.ID].PlannedAt)
			res.Added++
		case ch.hash == sch.Hash:
			ch.seen = s.gen
			res.Unchanged++
		case ch.failed:
			delete(s.byPID, ch.pid.Id)
			s.spawn(c, sch, m.last[sch.ID].PlannedAt)
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
		delete(s.byPID, ch.pid.Id)
		if !ch.failed {
			c.Stop(ch.pid)
		}
		res.Removed++
	}
	return res
}

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
	if ch := r.sup.children[r.sup.byPID[child.Id]]; ch != nil && ch.pid.Equal(child) {
		// A restarted actor resumes from now: whatever it had fired is
		// recorded, and a fire recorded twice is a no-op.
		sys.Root.Send(child, &initSchedule{schedule: ch.schedule})
	}
}
