// Package dryrun is the Platform that publishes nothing: it logs the post it
// would send and returns synthetic post ids. It is what `herald serve
// --dry-run` and accounts without credentials use.
package dryrun

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/herald-social/herald/platform"
)

// Platform logs posts instead of publishing them.
type Platform struct {
	logger *slog.Logger
}

// New returns a dry-run platform logging to logger.
func New(logger *slog.Logger) *Platform { return &Platform{logger: logger} }

// Publish logs each post not yet published and returns synthetic ids of the
// form dry-JOB-N, stable for a job so that a retried publish looks the same.
func (p *Platform) Publish(ctx context.Context, post platform.Post, progress func(string) error) ([]string, error) {
	ids := append([]string(nil), post.Published...)
	for i := len(post.Published); i < len(post.Texts); i++ {
		if err := ctx.Err(); err != nil {
			return ids, fmt.Errorf("dry-run publish: %w: %w", platform.ErrTransient, err)
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
			attrs = append(attrs, slog.String("in_reply_to", ids[i-1]))
		}
		p.logger.LogAttrs(ctx, slog.LevelInfo, "dry-run post", attrs...)
		ids = append(ids, id)
		if progress != nil {
			if err := progress(id); err != nil {
				return ids, err
			}
		}
	}
	return ids, nil
}

// Find reports nothing: a dry-run post never reaches a platform, so an
// ambiguous dry-run publish is simply published again.
func (p *Platform) Find(context.Context, platform.Post) ([]string, error) { return nil, nil }

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
