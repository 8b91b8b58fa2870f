package engine

import (
	"log/slog"
	"time"

	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/schedules/diskcache"
)

// cacheMaxAge is how long a decode cache entry unused by any start or
// reload is kept.
const cacheMaxAge = 7 * 24 * time.Hour

// newLoader returns the node's Loader: with the decode cache in
// Config.CacheDir when one is set and can be opened. A cache that cannot
// be opened costs only time, so the node starts without it and says so.
func (e *Engine) newLoader() (*schedules.Loader, *diskcache.Cache) {
	if e.cfg.CacheDir == "" {
		return schedules.NewLoader(schedules.LoadOptions{}), nil
	}
	salt, err := diskcache.Fingerprint()
	var c *diskcache.Cache
	if err == nil {
		c, err = diskcache.Open(e.cfg.CacheDir, diskcache.Options{Salt: salt, Now: e.clock.Now,
			Logger: e.logger.With(slog.String("component", "decode-cache"))})
	}
	if err != nil {
		e.logger.Warn("decode cache off: every start parses all schedule files", slog.String("dir", e.cfg.CacheDir),
			slog.String("error", err.Error()))
		return schedules.NewLoader(schedules.LoadOptions{}), nil
	}
	return schedules.NewLoader(schedules.LoadOptions{Cache: c}), c
}

// trimCache removes the cache's entries that no start or reload used for
// cacheMaxAge (files edited or removed since, older binaries).
func (e *Engine) trimCache(c *diskcache.Cache) {
	n, err := c.Trim(cacheMaxAge)
	if err != nil {
		e.logger.Warn("decode cache: trim failed", slog.String("dir", c.Dir()), slog.String("error", err.Error()))
		return
	}
	if n > 0 {
		e.logger.Debug("decode cache: trimmed", slog.String("dir", c.Dir()), slog.Int("removed", n))
	}
}
