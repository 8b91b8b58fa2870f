package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/herald-social/herald/engine"
)

const serveHelp = `Runs a Herald node: loads the schedules, fires each one on time, records
every job in the store and publishes it, and applies edits to the schedule
files while running (file changes, SIGHUP). SIGTERM or SIGINT stop it
gracefully. Every flag can also be set with the HERALD_* environment
variable named in its description; a flag wins over the variable.`

// envFlag describes a flag that may also come from the environment.
type envFlag struct {
	name, env string
}

var serveEnv = []envFlag{
	{"config", "HERALD_CONFIG"}, {"db", "HERALD_DB"}, {"listen", "HERALD_LISTEN"},
	{"dry-run", "HERALD_DRY_RUN"}, {"node-id", "HERALD_NODE_ID"}, {"publishers", "HERALD_PUBLISHERS"},
	{"log-format", "HERALD_LOG_FORMAT"}, {"log-level", "HERALD_LOG_LEVEL"}, {"grace", "HERALD_GRACE"},
	{"poll-interval", "HERALD_POLL_INTERVAL"}, {"x-api-url", "HERALD_X_API_URL"},
	{"dead-letter-webhook", "HERALD_DEAD_LETTER_WEBHOOK"}, {"admin-token-file", "HERALD_ADMIN_TOKEN_FILE"},
	{"tls-cert", "HERALD_TLS_CERT"}, {"tls-key", "HERALD_TLS_KEY"}, {"cache-dir", "HERALD_CACHE_DIR"},
	{"lease", "HERALD_LEASE"}, {"request-timeout", "HERALD_REQUEST_TIMEOUT"}, {"media-budget", "HERALD_MEDIA_BUDGET"},
	{"timeline-lag", "HERALD_TIMELINE_LAG"}, {"redis", "HERALD_REDIS"}, {"redis-password", "HERALD_REDIS_PASSWORD"},
	{"redis-prefix", "HERALD_REDIS_PREFIX"},
	{"dead-letter-webhook-file", "HERALD_DEAD_LETTER_WEBHOOK_FILE"}, {"dead-letter-secret-file", "HERALD_DEAD_LETTER_SECRET_FILE"},
	{"insecure-http", "HERALD_INSECURE_HTTP"}, {"allowed-host", "HERALD_ALLOWED_HOSTS"},
	{"metrics-public", "HERALD_METRICS_PUBLIC"}, {"metrics-schedule-labels", "HERALD_METRICS_SCHEDULE_LABELS"},
	{"retain", "HERALD_RETAIN"}, {"retain-dead", "HERALD_RETAIN_DEAD"},
}

// retentionFlag is a --retain value: days (90d), a duration, or off.
type retentionFlag struct{ d *time.Duration }

func (f retentionFlag) String() string {
	switch {
	case f.d == nil || *f.d == 0:
		return "off"
	case *f.d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", *f.d/(24*time.Hour))
	}
	return f.d.String()
}

func (f retentionFlag) Set(s string) (err error) {
	*f.d, err = engine.ParseRetention(s)
	return err
}

// defaultCacheDir is where a node keeps its decode cache unless told:
// the user's cache folder ($XDG_CACHE_HOME or ~/.cache on Linux), or none
// when the system names none.
func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "herald")
}

func runServe(env *cliEnv, args []string) int {
	fs := newFlagSet("serve", "[flags]", serveHelp, env.stderr)
	hostname, _ := os.Hostname()
	var (
		cfg                 engine.Config
		configPaths         string
		logFormat, logLevel string
		deadLetter          deadLetterFlags
	)
	fs.StringVar(&configPaths, "config", "", "schedules file or folder; several separated by commas (HERALD_CONFIG)")
	fs.StringVar(&cfg.DB, "db", engine.DefaultDB, "store: postgres://USER@HOST/DB or sqlite:PATH (HERALD_DB)")
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:8080", "address of the admin API, dashboard, metrics and health endpoints (HERALD_LISTEN)")
	fs.BoolVar(&cfg.DryRun, "dry-run", false, "publish nothing; log each post instead (HERALD_DRY_RUN)")
	fs.StringVar(&cfg.NodeID, "node-id", hostname, "this node's id in leases, events and logs (HERALD_NODE_ID)")
	fs.IntVar(&cfg.Publishers, "publishers", 8, "publisher pool size (HERALD_PUBLISHERS)")
	fs.StringVar(&logFormat, "log-format", "json", "log format: json or text (HERALD_LOG_FORMAT)")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error (HERALD_LOG_LEVEL)")
	fs.DurationVar(&cfg.Grace, "grace", 30*time.Second, "how long in-flight publishes may finish at shutdown (HERALD_GRACE)")
	fs.StringVar(&cfg.CacheDir, "cache-dir", defaultCacheDir(), "folder of the decode cache, which lets a restart skip parsing unchanged schedule files; empty or off for none (HERALD_CACHE_DIR)")
	fs.DurationVar(&cfg.PollInterval, "poll-interval", 10*time.Second, "checksum poll of the schedule files, a backstop to file events (HERALD_POLL_INTERVAL)")
	fs.StringVar(&cfg.XAPIURL, "x-api-url", "https://api.x.com", "X API base URL, e.g. a fake X server's (HERALD_X_API_URL)")
	fs.DurationVar(&cfg.Lease, "lease", time.Minute, "a claimed job's lease, renewed every quarter of it while held; nothing is sent for a job whose lease might end before the request (HERALD_LEASE)")
	fs.DurationVar(&cfg.RequestTimeout, "request-timeout", 30*time.Second, "timeout of each request to X (HERALD_REQUEST_TIMEOUT)")
	fs.DurationVar(&cfg.MediaBudget, "media-budget", engine.DefaultMediaBudget, "time for uploading and processing one post's media, all files together (HERALD_MEDIA_BUDGET)")
	fs.DurationVar(&cfg.TimelineLag, "timeline-lag", engine.DefaultTimelineLag, "how long X may take to show a new post in the account's timeline; reconciliation calls a post missing only after it (HERALD_TIMELINE_LAG)")
	fs.StringVar(&cfg.DeadLetterWebhook, "dead-letter-webhook", "", "URL POSTed a JSON body for each new dead letter; prefer the variable or the file, as a URL may hold a secret (HERALD_DEAD_LETTER_WEBHOOK)")
	fs.StringVar(&deadLetter.urlFile, "dead-letter-webhook-file", "", "file holding the dead-letter webhook's URL (HERALD_DEAD_LETTER_WEBHOOK_FILE)")
	fs.StringVar(&deadLetter.secretFile, "dead-letter-secret-file", "", "file holding the secret that signs the webhook's requests, instead of HERALD_DEAD_LETTER_SECRET (HERALD_DEAD_LETTER_SECRET_FILE)")
	// Secrets come only from the environment, never from flags (which
	// other users of the machine can read in the process list).
	fs.StringVar(&cfg.AdminTokenFile, "admin-token-file", "", "file of admin API tokens, one ROLE:TOKEN per line, ROLE read or admin (HERALD_ADMIN_TOKEN_FILE)")
	fs.StringVar(&cfg.Redis, "redis", "", "Redis shared by the nodes of a cluster, redis://HOST:PORT/DB or rediss://...; optional on one node (HERALD_REDIS)")
	fs.StringVar(&cfg.RedisPassword, "redis-password", "", "Redis password as a secret reference, env:NAME or file:/path (HERALD_REDIS_PASSWORD)")
	fs.StringVar(&cfg.RedisPrefix, "redis-prefix", "herald:", "prefix of every Redis key this cluster uses, to share one Redis database between clusters (HERALD_REDIS_PREFIX)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "serve the API, dashboard and health over TLS with this certificate (PEM) (HERALD_TLS_CERT)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "the certificate's private key (PEM) (HERALD_TLS_KEY)")
	fs.BoolVar(&cfg.InsecureHTTP, "insecure-http", false, "allow admin tokens over plain HTTP on a non-loopback --listen, for a TLS-terminating proxy or a private network; without it such a node refuses to start (HERALD_INSECURE_HTTP)")
	fs.Func("allowed-host", "without admin tokens, a Host name answered besides localhost, 127.0.0.0/8 and [::1] (a guard against DNS rebinding); repeat or separate with commas (HERALD_ALLOWED_HOSTS)", func(v string) error {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				cfg.AllowedHosts = append(cfg.AllowedHosts, h)
			}
		}
		return nil
	})
	fs.BoolVar(&cfg.MetricsPublic, "metrics-public", false, "serve /metrics without a token even when admin tokens are configured (HERALD_METRICS_PUBLIC)")
	scheduleLabels := fs.Int("metrics-schedule-labels", engine.DefaultMetricsScheduleLabels, "most schedules whose metrics carry their own schedule_id label; above, schedule_id is \"_other\"; 0 for never (HERALD_METRICS_SCHEDULE_LABELS)")
	cfg.Retain, cfg.RetainDead = engine.DefaultRetain, engine.DefaultRetainDead
	fs.Var(retentionFlag{&cfg.Retain}, "retain", "how long succeeded, cancelled and missed jobs are kept, with their events and metrics, after their last change: days (90d), a duration (2160h), or off; at least 1h (HERALD_RETAIN)")
	fs.Var(retentionFlag{&cfg.RetainDead}, "retain-dead", "how long dead letters are kept after their last change, at least --retain; off keeps them until handled (HERALD_RETAIN_DEAD)")
	cfg.TokenKey = env.getenv("HERALD_TOKEN_KEY")
	cfg.PreviousTokenKeys = env.getenv("HERALD_TOKEN_KEY_PREVIOUS")
	cfg.AdminTokens = env.getenv("HERALD_ADMIN_TOKENS")
	cfg.DeadLetterSecret = env.getenv("HERALD_DEAD_LETTER_SECRET")
	cfg.Version = versionString()
	if err := applyEnv(fs, env.getenv, serveEnv); err != nil {
		return usageError(fs, "%v", err)
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return parseStatus(err)
	}
	if len(rest) > 0 {
		return usageError(fs, "serve takes no arguments (give the schedules with --config), got %q", rest)
	}
	if err := deadLetter.apply(&cfg, env.getenv); err != nil {
		return usageError(fs, "%v", err)
	}
	switch {
	case *scheduleLabels < 0:
		return usageError(fs, "--metrics-schedule-labels %d: must not be negative", *scheduleLabels)
	case *scheduleLabels == 0:
		cfg.MetricsScheduleLabels = -1 // engine.Config's "never"
	default:
		cfg.MetricsScheduleLabels = *scheduleLabels
	}
	if cfg.CacheDir == "off" {
		cfg.CacheDir = ""
	}
	for _, p := range strings.Split(configPaths, ",") {
		if p = strings.TrimSpace(p); p != "" {
			cfg.ConfigPaths = append(cfg.ConfigPaths, p)
		}
	}
	logger, err := newLogger(env.stderr, logFormat, logLevel)
	if err != nil {
		return usageError(fs, "%v", err)
	}
	deadLetter.warn(logger)
	e, err := engine.New(cfg, logger, nil)
	if err != nil {
		return usageError(fs, "%v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_, _ = e.Reload(ctx, "SIGHUP")
			}
		}
	}()

	if err := e.Run(ctx); err != nil {
		logger.Error("herald serve failed", slog.String("error", err.Error()))
		return exitCheck
	}
	return exitOK
}

// applyEnv sets each flag not given on the command line from its HERALD_*
// variable. It runs before parsing, so command-line flags override.
func applyEnv(fs *flag.FlagSet, getenv func(string) string, flags []envFlag) error {
	for _, f := range flags {
		v := getenv(f.env)
		if v == "" {
			continue
		}
		if err := fs.Set(f.name, v); err != nil {
			return fmt.Errorf("%s=%q: %v", f.env, v, err)
		}
	}
	return nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want json or text", format)
}
