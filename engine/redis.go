package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/herald-social/herald/cluster"
)

// redisPingTimeout bounds a health check of Redis.
const redisPingTimeout = time.Second

// openRedis opens the client of --redis, if any. A Redis that does not
// answer does not stop the start: the node works without it (see package
// cluster) and uses it once it answers.
func (e *Engine) openRedis(ctx context.Context) error {
	if e.cfg.Redis == "" {
		return nil
	}
	c, err := cluster.Open(cluster.Options{URL: e.cfg.Redis, Password: e.cfg.RedisPassword})
	if err != nil {
		return err
	}
	e.redis = c
	if err := cluster.Ping(ctx, c, redisPingTimeout); err != nil {
		e.logger.Warn("redis does not answer: working without it until it does", slog.String("redis", cluster.Redact(e.cfg.Redis)), slog.String("error", err.Error()))
	}
	return nil
}

// Redis implements admin.Backend: whether Redis is configured, and
// whether it answers.
func (e *Engine) Redis(ctx context.Context) (bool, error) {
	if e.redis == nil {
		return false, nil
	}
	return true, cluster.Ping(ctx, e.redis, redisPingTimeout)
}
