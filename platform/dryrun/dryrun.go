// Package dryrun is the Platform that publishes nothing: it logs the post it
// would send and returns synthetic post ids. It is what `herald serve
// --dry-run` and accounts without credentials use.
package dryrun

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform"
)

// Platform logs posts instead of publishing them.
type Platform struct {
	logger *slog.Logger
	clock  clock.Clock
}

// New returns a dry-run platform logging to logger, on the real clock.
func New(logger *slog.Logger) *Platform { return &Platform{logger: logger, clock: clock.Real()} }

// WithClock returns p stamping the times it reports (Result.SentAt) on c.
func (p *Platform) WithClock(c clock.Clock) *Platform {
	q := *p
	q.clock = c
	return &q
}

// Publish logs each post not yet published and returns synthetic ids of the
// form dry-JOB-N, stable for a job so that a retried publish looks the same.
// It asks the post's Guard before each post as a real platform would, so
// that fencing behaves the same in a dry run.
func (p *Platform) Publish(ctx context.Context, post platform.Post, hooks platform.Hooks) (platform.Result, error) {
	res := platform.Result{IDs: append([]string(nil), post.Published...)}
	for i := len(post.Published); i < len(post.Texts); i++ {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("dry-run publish: %w: %w", platform.ErrTransient, err)
		}
		if post.Guard != nil {
			if err := post.Guard("create_post", 0); err != nil {
				return res, err
			}
		}
		if i == 0 && len(post.Media) > 0 && hooks.Media != nil {
			if err := hooks.Media(post.Media); err != nil {
				return res, err
			}
		}
		now := p.clock.Now()
		if res.SentAt.IsZero() {
			res.SentAt = now
		}
		id := fmt.Sprintf("dry-%d-%d", post.JobID, i+1)
		attrs := []slog.Attr{
			slog.Int64("job_id", post.JobID), slog.String("schedule_id", post.ScheduleID),
			slog.String("account", post.Account), slog.String("correlation_id", post.CorrelationID),
			slog.String("post_id", id), slog.Int("thread_index", i), slog.String("text", post.Texts[i]),
		}
		if i == 0 && len(post.Media) > 0 {
			attrs = append(attrs, slog.Int("media", len(post.Media)))
		}
		if i > 0 {
			attrs = append(attrs, slog.String("in_reply_to", res.IDs[i-1]))
		}
		p.logger.LogAttrs(ctx, slog.LevelInfo, "dry-run post", attrs...)
		res.IDs = append(res.IDs, id)
		if hooks.Posted != nil {
			if err := hooks.Posted(id, res.SentAt); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// Find reports nothing: a dry-run post never reaches a platform, so an
// ambiguous dry-run publish is simply published again.
func (p *Platform) Find(_ context.Context, _ string, posts []platform.Post) ([][]string, error) {
	return make([][]string, len(posts)), nil
}

// Settled is always true: nothing a dry run did can show up later.
func (p *Platform) Settled(string, time.Time, time.Time) bool { return true }

// PostMetrics answers zeros for every post, so that metrics stages run
// end to end in a dry run (the dashboard shows the snapshots) without a
// platform.
func (p *Platform) PostMetrics(_ context.Context, _ string, postIDs []string) ([]platform.Metrics, error) {
	out := make([]platform.Metrics, len(postIDs))
	for i, id := range postIDs {
		out[i] = platform.Metrics{PostID: id, Detail: "dry-run: no figures"}
	}
	return out, nil
}
