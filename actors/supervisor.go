package actors

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/herald-social/herald/schedules"
)

// supervisor owns the schedule actors: it diffs each configuration it is
// given by schedule id and spec hash and spawns, updates or stops only what
// changed. A panicking schedule actor is restarted; one that fails more than
// maxRestarts times within restartWindow is stopped and reported, and the
// others go on. Its own Receive is kept trivial: if the supervisor itself
// failed, its restart would stop every child.
type supervisor struct {
	rt       *Runtime
	children map[string]*child // by schedule id
	byPID    map[string]string // pid id -> schedule id
	stopping bool              // its children are being stopped with it
}

type child struct {
	pid    *actor.PID
	hash   string
	failed bool // stopped after repeated failures; respawned only when its spec changes
}

const (
	maxRestarts   = 3
	restartWindow = time.Minute
)

func (s *supervisor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *ApplyConfig:
		c.Respond(s.apply(c, m))
	case *actor.Stopping:
		s.stopping = true
	case *actor.Terminated:
		if !s.stopping {
			s.terminated(m)
		}
	}
}

func (s *supervisor) apply(c actor.Context, m *ApplyConfig) *ApplyResult {
	res := &ApplyResult{}
	if len(s.children) == 0 {
		// Sized once: growing maps to a million entries costs seconds.
		s.children = make(map[string]*child, len(m.Config.Schedules))
		s.byPID = make(map[string]string, len(m.Config.Schedules))
	}
	seen := make(map[string]bool, len(m.Config.Schedules))
	for _, sch := range m.Config.Schedules {
		if !sch.Enabled {
			continue
		}
		seen[sch.ID] = true
		ch, ok := s.children[sch.ID]
		switch {
		case !ok:
			s.spawn(c, sch, m.Last[sch.ID])
			res.Added++
		case ch.hash == sch.Hash:
			res.Unchanged++
		case ch.failed:
			delete(s.byPID, ch.pid.Id)
			s.spawn(c, sch, m.Last[sch.ID])
			res.Changed++
		default:
			ch.hash = sch.Hash
			c.Send(ch.pid, &updateSchedule{schedule: sch})
			res.Changed++
		}
	}
	for id, ch := range s.children {
		if seen[id] {
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
	rt := s.rt
	props := actor.PropsFromProducer(func() actor.Actor {
		return &scheduleActor{rt: rt, schedule: sch, last: last}
	})
	pid := c.SpawnPrefix(props, "s")
	s.children[sch.ID] = &child{pid: pid, hash: sch.Hash}
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

func supervisorStrategy(rt *Runtime) actor.SupervisorStrategy {
	return actor.NewOneForOneStrategy(maxRestarts, restartWindow, func(reason any) actor.Directive {
		rt.logger.Error("schedule actor panicked; restarting", slog.Any("reason", reason))
		return actor.RestartDirective
	})
}
