package actors

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/internal/backoff"
	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/store"
)

// metricsActor captures the metrics of one account's published posts. The
// tasks are durable rows (created with each success, one per stage), so
// this actor holds no state that matters: it sleeps on one timer until the
// account's earliest due task, claims due tasks in batches of up to
// platform.MaxMetricsBatch posts, looks them up in one request each, and
// stores a snapshot per task. A stage missed during downtime is simply
// due: it is captured late, never lost.
//
// It also wakes every Options.MetricsPoll, because another node may have
// created tasks for the same account.
// metricsBackoff paces lookups of an account after failures: from a minute
// to an hour.
var metricsBackoff = backoff.Policy{Base: time.Minute, Max: time.Hour}

type metricsActor struct {
	rt      *Runtime
	account string
	timer   clock.Timer
	armedAt time.Time
	gen     uint64
	tries   int // consecutive failed lookups, for backoff
}

// metricsWake tells a metrics actor that a task may be due at At.
type metricsWake struct{ At time.Time }

// metricsTick is the actor's timer going off; gen ties it to its arming.
type metricsTick struct{ gen uint64 }

func (m *metricsActor) Receive(c actor.Context) {
	switch msg := c.Message().(type) {
	case *actor.Started:
		m.reschedule(c)
	case *metricsWake:
		if m.timer == nil || msg.At.Before(m.armedAt) {
			m.arm(c, msg.At)
		}
	case *metricsTick:
		if msg.gen != m.gen {
			return
		}
		m.timer = nil
		m.capture(context.Background())
		m.reschedule(c)
	case *actor.Stopping:
		if m.timer != nil {
			m.timer.Stop()
		}
	}
}

// arm sets the one timer to at (now if at has passed).
func (m *metricsActor) arm(c actor.Context, at time.Time) {
	if m.timer != nil {
		m.timer.Stop()
	}
	m.gen++
	gen, self, root := m.gen, c.Self(), m.rt.system.Root
	m.armedAt = at
	d := at.Sub(m.rt.opts.Clock.Now())
	if d <= 0 {
		// Already due: no timer (a fake clock would not fire it until
		// it next moves).
		m.timer = stoppedTimer{}
		root.Send(self, &metricsTick{gen: gen})
		return
	}
	m.timer = m.rt.opts.Clock.AfterFunc(d, func() { root.Send(self, &metricsTick{gen: gen}) })
}

// reschedule arms the timer for the earliest due task, or the next poll.
func (m *metricsActor) reschedule(c actor.Context) {
	rt := m.rt
	now := rt.opts.Clock.Now()
	at := now.Add(rt.opts.MetricsPoll)
	next, ok, err := rt.opts.Store.NextMetricsDue(rt.accepting, m.account)
	switch {
	case err != nil:
		if rt.accepting.Err() == nil {
			rt.logger.Warn("metrics: reading the next due task failed", slog.String("account", m.account), slog.String("error", err.Error()))
		}
	case ok && next.Before(at):
		at = next
	}
	m.arm(c, at)
}

// capture claims and captures due tasks until none is due or a lookup
// fails.
func (m *metricsActor) capture(ctx context.Context) {
	rt := m.rt
	reader, ok := rt.platform.(platform.MetricsReader)
	if !ok {
		return
	}
	for rt.accepting.Err() == nil {
		now := rt.opts.Clock.Now()
		tasks, err := rt.opts.Store.ClaimMetricsTasks(rt.accepting, store.ClaimMetricsTasksParams{
			Account: m.account, Node: rt.opts.Node, Now: now, LeaseUntil: now.Add(rt.opts.Lease), Limit: platform.MaxMetricsBatch,
		})
		if err != nil {
			if rt.accepting.Err() == nil {
				rt.logger.Warn("metrics: claiming tasks failed", slog.String("account", m.account), slog.String("error", err.Error()))
			}
			return
		}
		if len(tasks) == 0 {
			return
		}
		if !m.captureBatch(ctx, reader, tasks) || len(tasks) < platform.MaxMetricsBatch {
			return
		}
	}
}

// captureBatch looks up one batch of claimed tasks and stores their
// snapshots, or defers them when the lookup fails. It reports success.
func (m *metricsActor) captureBatch(ctx context.Context, reader platform.MetricsReader, tasks []store.MetricsTask) bool {
	rt := m.rt
	ids := make([]string, 0, len(tasks))
	seen := map[string]bool{}
	for _, t := range tasks {
		if !seen[t.PostID] {
			seen[t.PostID] = true
			ids = append(ids, t.PostID)
		}
	}
	lctx, cancel := context.WithTimeout(rt.inflight, rt.opts.LookupTimeout)
	got, err := reader.PostMetrics(lctx, m.account, ids)
	cancel()
	now := rt.opts.Clock.Now()
	if err != nil {
		m.tries++
		at, ok := platform.RetryAt(err)
		if !ok || errors.Is(err, platform.ErrPermanent) || errors.Is(err, platform.ErrReauth) {
			at = now.Add(metricsBackoff.Ceiling(m.tries))
		}
		taskIDs := make([]int64, len(tasks))
		for i, t := range tasks {
			taskIDs[i] = t.ID
		}
		if _, derr := rt.opts.Store.DeferMetricsTasks(rt.writes, store.DeferMetricsTasksParams{Node: rt.opts.Node, TaskIDs: taskIDs, DueAt: at, Error: err.Error(), Now: now}); derr != nil {
			rt.logger.Warn("metrics: deferring tasks failed", slog.String("account", m.account), slog.String("error", derr.Error()))
		}
		level := slog.LevelWarn
		if errors.Is(err, platform.ErrDeferred) {
			level = slog.LevelInfo
		}
		rt.logger.Log(ctx, level, "metrics: lookup deferred", slog.String("account", m.account), slog.Int("posts", len(ids)),
			slog.String("retry_at", at.UTC().Format(time.RFC3339)), slog.String("error", err.Error()))
		return false
	}
	m.tries = 0
	byID := make(map[string]platform.Metrics, len(got))
	for _, g := range got {
		byID[g.PostID] = g
	}
	snaps := make([]store.MetricsSnapshot, len(tasks))
	for i, t := range tasks {
		g, ok := byID[t.PostID]
		if !ok {
			g = platform.Metrics{PostID: t.PostID, Missing: true, Detail: "not in the platform's answer"}
		}
		snaps[i] = snapshotOf(t, g, now)
	}
	res, err := rt.opts.Store.CompleteMetricsTasks(rt.writes, store.CompleteMetricsTasksParams{Node: rt.opts.Node, Now: now, Snapshots: snaps})
	if err != nil {
		rt.logger.Warn("metrics: storing snapshots failed; the tasks will be captured again", slog.String("account", m.account), slog.String("error", err.Error()))
		return false
	}
	stored := 0
	for i, e := range res {
		if e != nil {
			rt.logger.Warn("metrics: snapshot refused", slog.Int64("task_id", tasks[i].ID), slog.String("error", e.Error()))
			continue
		}
		stored++
	}
	if stored > 0 {
		rt.opts.Observer.MetricsCaptured(m.account, stored)
	}
	rt.logger.Info("metrics captured", slog.String("account", m.account), slog.Int("posts", len(ids)), slog.Int("snapshots", stored))
	return true
}

// snapshotOf turns one lookup result into the snapshot of a task.
func snapshotOf(t store.MetricsTask, g platform.Metrics, now time.Time) store.MetricsSnapshot {
	s := store.MetricsSnapshot{
		TaskID: t.ID, JobID: t.JobID, PostID: t.PostID, Stage: t.Stage, DueAt: t.DueAt, CapturedAt: now,
		Likes: g.Likes, Reposts: g.Reposts, Replies: g.Replies, Quotes: g.Quotes, Bookmarks: g.Bookmarks, Impressions: g.Impressions,
		NonPublic: g.NonPublic, Organic: g.Organic, Detail: g.Detail,
	}
	if g.Missing && s.Detail == "" {
		s.Detail = "post not found"
	}
	return s
}

// wakeMetrics tells the account's metrics actor (spawning it if needed)
// that a task may be due at at.
func (rt *Runtime) wakeMetrics(account string, at time.Time) {
	if rt.accepting.Err() != nil {
		return
	}
	if _, ok := rt.platform.(platform.MetricsReader); !ok {
		return
	}
	rt.metricsMu.Lock()
	pid, ok := rt.metrics[account]
	if !ok {
		props := actor.PropsFromProducer(func() actor.Actor { return &metricsActor{rt: rt, account: account} })
		pid = rt.system.Root.Spawn(props)
		rt.metrics[account] = pid
	}
	rt.metricsMu.Unlock()
	rt.system.Root.Send(pid, &metricsWake{At: at})
}

// startMetrics wakes the metrics actor of every account with pending
// tasks, so that a restarted node captures what came due while it was
// down.
func (rt *Runtime) startMetrics(ctx context.Context) error {
	accounts, err := rt.opts.Store.MetricsAccounts(ctx)
	if err != nil {
		return err
	}
	for _, a := range accounts {
		rt.wakeMetrics(a, rt.opts.Clock.Now())
	}
	return nil
}

// stopMetrics stops every metrics actor and waits for them.
func (rt *Runtime) stopMetrics() {
	rt.metricsMu.Lock()
	pids := make([]*actor.PID, 0, len(rt.metrics))
	for _, pid := range rt.metrics {
		pids = append(pids, pid)
	}
	rt.metrics = map[string]*actor.PID{}
	rt.metricsMu.Unlock()
	for _, pid := range pids {
		_ = rt.system.Root.StopFuture(pid).Wait()
	}
}

// stoppedTimer stands for a tick already sent: a later arming supersedes
// it through gen.
type stoppedTimer struct{}

func (stoppedTimer) Stop() bool { return false }
