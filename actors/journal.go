package actors

import (
	"context"
	"log/slog"
	"time"

	"github.com/herald-social/herald/store"
)

// Log messages that operators' log pipelines and our own checks read: a
// contract, keep the names and attributes.
const (
	msgJobTransition = "job transition"
)

// journal reports one recorded transition: the "job transition" log event
// and the Observer. Every transition this runtime records should go
// through it, or the metrics miss it.
// Journal records, in the logs and the metrics, a transition made outside
// the actors (an operator's cancel or retry through the admin API).
func (rt *Runtime) Journal(ctx context.Context, c store.Change) { rt.journal(ctx, c) }

func (rt *Runtime) journal(ctx context.Context, c store.Change) {
	logChange(ctx, rt.logger, c)
	observeChange(rt.opts.Observer, c)
}

// logChange logs one recorded transition as the "job transition" event:
// job_id, schedule_id, planned_at (RFC 3339 with nanoseconds), from, to,
// attempt, node, plus correlation_id and detail when present.
func logChange(ctx context.Context, logger *slog.Logger, c store.Change) {
	attrs := []slog.Attr{
		slog.Int64("job_id", c.Job.ID),
		slog.String("schedule_id", c.Job.ScheduleID),
		slog.String("planned_at", c.Job.PlannedAt.UTC().Format(time.RFC3339Nano)),
		slog.String("from", string(c.Event.From)),
		slog.String("to", string(c.Event.To)),
		slog.Int("attempt", c.Event.Attempt),
		slog.String("node", c.Event.Node),
	}
	if c.Job.CorrelationID != "" {
		attrs = append(attrs, slog.String("correlation_id", c.Job.CorrelationID))
	}
	if c.Event.Detail != "" {
		attrs = append(attrs, slog.String("detail", c.Event.Detail))
	}
	logger.LogAttrs(ctx, slog.LevelInfo, msgJobTransition, attrs...)
}
