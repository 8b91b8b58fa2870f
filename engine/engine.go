package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/herald-social/herald/actors"
	"github.com/herald-social/herald/admin"
	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/cluster"
	"github.com/herald-social/herald/internal/gctarget"
	"github.com/herald-social/herald/platform/dryrun"
	"github.com/herald-social/herald/platform/x"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/schedules/diskcache"
	"github.com/herald-social/herald/schedules/watch"
	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/open"
)

// Engine is one running Herald node.
type Engine struct {
	cfg    Config
	logger *slog.Logger
	clock  clock.Clock

	store    store.Store
	redis    *redis.Client // nil without --redis
	platform *x.Platform
	runtime  *actors.Runtime
	watcher  *watch.Watcher
	server   *http.Server
	addr     net.Addr

	reloads chan reloadRequest
	// loader keeps each file's decode between reloads, so an edit costs
	// the decode of the files it touched (only start and reload use it),
	// and between starts through the decode cache (Config.CacheDir).
	loader  *schedules.Loader
	metrics *engineMetrics
	tokens  *admin.Tokens
	// stopBeats ends the heartbeats; beatsDone closes when they ended.
	stopBeats context.CancelFunc
	beatsDone chan struct{}
	// stopPrune ends the pruner (nil when retention is off); pruneDone
	// closes when it ended.
	stopPrune context.CancelFunc
	pruneDone chan struct{}
	startedAt time.Time
	members   members

	mu       sync.Mutex // guards the fields below, read by health checks
	current  *schedules.Config
	lastLoad ReloadResult
}

// New checks cfg and prepares an engine; Run starts it.
func New(cfg Config, logger *slog.Logger, clk clock.Clock) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if clk == nil {
		clk = clock.Real()
	}
	tokens, err := cfg.adminTokens() // checked by Validate
	if err != nil {
		return nil, err
	}
	metrics := newEngineMetrics()
	if cfg.MetricsScheduleLabels != 0 {
		metrics.scheduleLabels.Store(int64(cfg.MetricsScheduleLabels))
	}
	return &Engine{cfg: cfg, logger: logger, clock: clk, reloads: make(chan reloadRequest), metrics: metrics,
		tokens: tokens, beatsDone: make(chan struct{})}, nil
}

// Run starts the node and blocks until ctx ends (SIGTERM/SIGINT in main),
// then shuts down gracefully. It returns an error when the node cannot
// start (no store, no valid configuration) or did not stop cleanly.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.start(ctx); err != nil {
		e.abort()
		return err
	}
	e.loop(ctx)
	return e.shutdown()
}

func (e *Engine) start(ctx context.Context) (err error) {
	e.startedAt = e.clock.Now()
	if e.store, err = open.Open(ctx, e.cfg.DB, open.Options{Migrate: true}); err != nil {
		return fmt.Errorf("opening the store %s: %w", open.Redact(e.cfg.DB), err)
	}
	if err := e.openRedis(ctx); err != nil {
		return err
	}
	// Watch before the first load, so that an edit made while it loads is
	// not missed.
	e.startWatcher(ctx)
	// Every schedule starts now, so the latest fire of each is read while
	// the configuration loads: the load is CPU-bound, the read mostly
	// waits on the database (a million schedules: about 3 s each, which
	// ran one after the other).
	fires := make(chan latestFires, 1)
	go func() {
		f, err := e.store.AllLatestFires(ctx)
		fires <- latestFires{read: true, fires: f, err: err}
	}()
	// The first configuration must be valid: there is no last good one.
	loadStart := e.clock.Now()
	var cache *diskcache.Cache
	e.loader, cache = e.newLoader()
	first, err := e.loader.Load(e.cfg.ConfigPaths...)
	if err != nil {
		e.logReload(ReloadResult{Result: "error", Trigger: "start", Errors: diagnostics(err)})
		return fmt.Errorf("loading %v: %w", e.cfg.ConfigPaths, err)
	}
	st := e.loader.LastStats()
	e.logger.Info("schedules loaded", slog.Int("schedules", len(first.Schedules)), slog.Int("files", st.Files),
		slog.Int("parsed", st.Decoded), slog.Int("from_cache", st.Cached), slog.Duration("took", e.clock.Now().Sub(loadStart)))
	if cache != nil {
		go e.trimCache(cache)
	}

	pf, err := e.newPlatform(ctx, first)
	if err != nil {
		return err
	}
	opts := actors.Options{
		Store: e.store, Platform: pf, Clock: e.clock, Logger: e.logger, Node: e.cfg.NodeID,
		Publishers: e.cfg.Publishers, Lease: e.cfg.Lease,
		DeadLetterWebhook: e.cfg.DeadLetterWebhook, DeadLetterSecret: e.cfg.DeadLetterSecret,
	}
	if e.redis != nil {
		opts.FireLocks = cluster.NewFireLocks(e.redis, e.cfg.RedisPrefix, e.cfg.NodeID, 0)
	}
	e.instrument(&opts)
	rt, err := actors.New(opts)
	if err != nil {
		return err
	}
	if err := rt.Start(ctx); err != nil {
		return err
	}
	e.runtime = rt
	if err := e.startHTTP(); err != nil {
		return err
	}
	if err := e.refreshPauses(ctx); err != nil {
		return err
	}
	// A node whose first configuration is not applied would sit idle until
	// a file changed: fail the start instead, so that it is seen (and its
	// service manager restarts it).
	pre := <-fires
	// The first Apply builds every schedule actor or dormant schedule's
	// timer, a heap the node keeps: no collection while it grows, the
	// default target once it is built (see gctarget).
	restoreGC := gctarget.Raise(gctarget.StartPercent)
	r := e.applyFires(ctx, first, "start", pre)
	restoreGC()
	if r.Result != "ok" {
		return fmt.Errorf("applying the first configuration: %s", strings.Join(r.Errors, "; "))
	}
	var beats context.Context
	beats, e.stopBeats = context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(e.beatsDone)
		e.heartbeats(beats)
	}()
	e.startPruner(ctx)
	e.logger.Info("herald started", slog.String("node", e.cfg.NodeID), slog.String("db", open.Redact(e.cfg.DB)),
		slog.String("listen", e.addr.String()), slog.Any("config", e.cfg.ConfigPaths), slog.Bool("dry_run", e.cfg.DryRun),
		slog.Bool("tls", e.cfg.TLSCert != ""), slog.Int("admin_tokens", e.tokens.Len()))
	return nil
}

// newPlatform builds the X platform (dry-run for accounts without
// credentials, or for all with --dry-run) and configures the accounts of
// the first configuration.
func (e *Engine) newPlatform(ctx context.Context, first *schedules.Config) (*x.Platform, error) {
	var key []byte
	if e.cfg.TokenKey != "" {
		key, _ = x.ParseTokenKey(e.cfg.TokenKey) // checked by Validate
	}
	previous, _ := e.cfg.previousTokenKeys() // checked by Validate
	if e.cfg.DryRun {
		e.logger.Info("publishing in dry-run: posts are logged, not sent", slog.String("reason", "--dry-run"))
	}
	pf, err := x.New(x.Options{
		BaseURL: e.cfg.XAPIURL, UserAgent: "herald/" + cmp.Or(e.cfg.Version, "devel"), Store: tokenStore{e.store, e.clock}, TokenKey: key, PreviousTokenKeys: previous, Clock: e.clock,
		Logger: e.logger.With(slog.String("component", "x")), ForceDryRun: e.cfg.DryRun,
		DryRun:  dryrun.New(e.logger.With(slog.String("component", "dry-run"))).WithClock(e.clock),
		Timeout: e.cfg.RequestTimeout, MediaBudget: e.cfg.MediaBudget, TimelineLag: e.cfg.TimelineLag,
		Limiter: e.newLimiter(), RefreshLock: e.refreshLock(),
	})
	if err != nil {
		return nil, err
	}
	if err := pf.Configure(ctx, first); err != nil {
		e.logReload(ReloadResult{Result: "error", Trigger: "start", Errors: strings.Split(err.Error(), "\n")})
		return nil, fmt.Errorf("configuring accounts: %w", err)
	}
	e.platform = pf
	return pf, nil
}

// abort releases what a failed start acquired.
func (e *Engine) abort() {
	_ = e.stopWatcher()
	if e.runtime != nil {
		_ = e.runtime.Stop(context.Background(), 0)
	}
	if e.store != nil {
		_ = e.store.Close()
	}
	if e.redis != nil {
		_ = e.redis.Close()
	}
}

// loop serializes reloads: from the watcher, from Reload (SIGHUP, the API).
func (e *Engine) loop(ctx context.Context) {
	var changes <-chan watch.Change
	if e.watcher != nil {
		changes = e.watcher.Changes()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ch := <-changes:
			e.reload(ctx, "watch: "+ch.Reason)
		case req := <-e.reloads:
			req.reply <- e.reload(ctx, req.trigger)
		}
	}
}

func (e *Engine) startWatcher(ctx context.Context) {
	w, err := watch.New(watch.Options{
		Paths: e.cfg.ConfigPaths, PollInterval: e.cfg.PollInterval, Clock: watch.AdaptClock(e.clock),
		Logger: e.logger.With(slog.String("component", "watch")),
	})
	if err == nil {
		err = w.Start(ctx)
	}
	if err != nil {
		e.logger.Error("watching the configuration failed; reload with SIGHUP", slog.String("error", err.Error()))
		return
	}
	e.watcher = w
}

func (e *Engine) stopWatcher() error {
	if e.watcher == nil {
		return nil
	}
	return e.watcher.Stop()
}

func (e *Engine) shutdown() error {
	e.logger.Info("herald stopping", slog.String("grace", e.cfg.Grace.String()))
	errs := []error{e.stopWatcher()}
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.Grace+30*time.Second)
	defer cancel()
	if e.stopBeats != nil {
		e.stopBeats()
		<-e.beatsDone
		if err := e.removeNode(ctx); err != nil {
			e.logger.Warn("removing this node's heartbeat failed", slog.String("error", err.Error()))
		}
	}
	if e.stopPrune != nil {
		e.stopPrune()
		<-e.pruneDone
	}
	errs = append(errs, e.runtime.Stop(ctx, e.cfg.Grace))
	if e.server != nil {
		errs = append(errs, e.server.Shutdown(ctx))
	}
	errs = append(errs, e.store.Close())
	if e.redis != nil {
		errs = append(errs, e.redis.Close())
	}
	err := errors.Join(errs...)
	if err == nil {
		e.logger.Info("herald stopped")
	}
	return err
}

// Addr is the address the health endpoints listen on, once Run started.
func (e *Engine) Addr() net.Addr { return e.addr }
