package engine

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/herald-social/herald/actors"
	"github.com/herald-social/herald/cluster"
	"github.com/herald-social/herald/platform/x"
	"github.com/herald-social/herald/store/open"
)

// Config is how a node runs; `herald serve` fills it from flags and HERALD_*
// environment variables.
type Config struct {
	ConfigPaths  []string      // schedule files or folders
	DB           string        // postgres://... or sqlite:PATH
	Listen       string        // health (and later the API) address
	DryRun       bool          // publish nothing, log what would be posted
	NodeID       string        // this node's id in leases, events and logs
	Publishers   int           // publisher pool size
	Grace        time.Duration // how long in-flight publishes may finish at shutdown
	PollInterval time.Duration // checksum poll of the config files (a backstop to fsnotify)
	Lease        time.Duration // a running job's lease
	// RequestTimeout bounds each request to X; MediaBudget one post's
	// uploads and processing; TimelineLag how long X may take to show a
	// new post in the timeline (zero: the defaults of package x).
	RequestTimeout time.Duration
	MediaBudget    time.Duration
	TimelineLag    time.Duration
	// CacheDir keeps each schedules file's decode between starts, so that
	// a restart on files seen before skips their YAML (see
	// schedules/diskcache); empty means no cache.
	CacheDir string

	Version string // this binary's version, reported in the User-Agent and status

	XAPIURL string // X API base URL (a fake X server in tests and demos)
	// TokenKey encrypts rotated OAuth 2.0 tokens at rest: 32 bytes, base64
	// or hex (HERALD_TOKEN_KEY). Required when an account has a refresh
	// token.
	TokenKey string
	// PreviousTokenKeys are keys rotated away, comma separated
	// (HERALD_TOKEN_KEY_PREVIOUS): they still open stored tokens, which
	// the node rewrites under TokenKey, during a rolling rotation.
	PreviousTokenKeys string
	// DeadLetterWebhook is POSTed each new dead letter; DeadLetterSecret
	// signs the bodies (HMAC-SHA256).
	DeadLetterWebhook string
	DeadLetterSecret  string

	// AdminTokens are admin API token lines, ROLE:TOKEN (HERALD_ADMIN_TOKENS);
	// AdminTokenFile names a file of more. With none, the API (and the
	// whole listener) is reachable on loopback only, without a token.
	AdminTokens    string
	AdminTokenFile string
	// TLSCert and TLSKey, both or neither, serve the listener over TLS;
	// the pair is read again when the files change.
	TLSCert, TLSKey string
	// InsecureHTTP lets a node with admin tokens listen beyond loopback
	// without TLS: for a TLS-terminating proxy or a private network.
	// Without it such a node refuses to start, as its tokens would cross
	// the network in clear text.
	InsecureHTTP bool
	// AllowedHosts are Host names answered, besides loopback ones, when
	// no admin token is configured (a guard against DNS rebinding).
	AllowedHosts []string
	// MetricsPublic serves /metrics without a token even when admin
	// tokens are configured.
	MetricsPublic bool
	// MetricsScheduleLabels is the most schedules for which metrics keep a
	// schedule_id label; above it, every series reads schedule_id="_other".
	// Zero means DefaultMetricsScheduleLabels; negative, never per schedule.
	MetricsScheduleLabels int

	// Redis, when set, is the Redis the nodes of a cluster share
	// (redis:// or rediss://); RedisPassword is a secret reference
	// (env:NAME or file:/path) to its password. See package cluster.
	Redis, RedisPassword string
	// RedisPrefix starts every key Herald writes in Redis, so that
	// several clusters (or tests) may share one Redis database.
	RedisPrefix string

	// Retain is how long terminal jobs (succeeded, cancelled, missed) are
	// kept, with their events and metrics, after their last change; zero
	// keeps them forever. RetainDead is the same for dead letters (zero:
	// forever). See DefaultRetain and pruner.
	Retain, RetainDead time.Duration
}

// Defaults of the publishing time budgets, as package x has them.
const (
	DefaultMediaBudget = x.DefaultMediaBudget
	DefaultTimelineLag = x.DefaultTimelineLag
)

// DefaultMetricsScheduleLabels is the most schedules whose metrics carry
// their own schedule_id label unless told otherwise: a thousand schedules
// are a few thousand series; a million would swamp a Prometheus.
const DefaultMetricsScheduleLabels = 1000

// DefaultDB is the embedded store used when no database is given.
const DefaultDB = open.DefaultURL

// Validate reports every problem with c, each naming its flag.
func (c Config) Validate() error {
	var errs []error
	if len(c.ConfigPaths) == 0 {
		errs = append(errs, errors.New("--config: at least one schedules file or folder is required"))
	}
	if _, _, err := open.Parse(c.DB); err != nil {
		errs = append(errs, fmt.Errorf("--db: %w", err))
	}
	if c.Publishers < 1 || c.Publishers > 1024 {
		errs = append(errs, fmt.Errorf("--publishers %d: want 1 to 1024", c.Publishers))
	}
	if c.NodeID == "" {
		errs = append(errs, errors.New("--node-id: must not be empty"))
	}
	if c.XAPIURL != "" {
		if u, err := url.Parse(c.XAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--x-api-url %q: want an http:// or https:// URL", c.XAPIURL))
		}
	}
	if c.DeadLetterWebhook != "" {
		if u, err := url.Parse(c.DeadLetterWebhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--dead-letter-webhook: want an http:// or https:// URL"))
		}
	}
	if c.TokenKey != "" {
		if _, err := x.ParseTokenKey(c.TokenKey); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := c.previousTokenKeys(); err != nil {
		errs = append(errs, err)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if tokens, err := c.adminTokens(); err != nil {
		errs = append(errs, err)
	} else if _, beyond := loopbackOnly(c.Listen); tokens.Len() > 0 && beyond && c.TLSCert == "" && !c.InsecureHTTP {
		errs = append(errs, fmt.Errorf("--listen %s: admin tokens would cross the network in clear text; give --tls-cert and --tls-key, or --insecure-http when a TLS-terminating proxy or a private network carries the traffic", c.Listen))
	}
	for _, h := range c.AllowedHosts {
		if err := validAllowedHost(h); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, validRetention(c.Retain, c.RetainDead)...)
	if c.Lease != 0 && c.Lease < 10*time.Second {
		errs = append(errs, fmt.Errorf("--lease %v: want at least 10s", c.Lease))
	}
	// A lease is renewed every quarter of it, so it has at least three
	// quarters left when a request may start: the request and the margin
	// must fit in them, or every request would be fenced.
	if lease := cmp.Or(c.Lease, time.Minute); c.RequestTimeout > 0 && c.RequestTimeout+actors.DefaultLeaseMargin >= lease*3/4 {
		errs = append(errs, fmt.Errorf("--request-timeout %v: must be shorter than three quarters of the lease (%v) less %v, or requests could not be sent between renewals", c.RequestTimeout, lease, actors.DefaultLeaseMargin))
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--request-timeout", c.RequestTimeout}, {"--media-budget", c.MediaBudget}, {"--timeline-lag", c.TimelineLag}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s %v: must not be negative", d.flag, d.v))
		}
	}
	if c.Redis != "" {
		if _, err := cluster.ParseURL(c.Redis); err != nil {
			errs = append(errs, err)
		}
	} else if c.RedisPassword != "" {
		errs = append(errs, errors.New("--redis-password needs --redis"))
	}
	if c.Grace < 0 {
		errs = append(errs, fmt.Errorf("--grace %v: must not be negative", c.Grace))
	}
	return errors.Join(errs...)
}

// previousTokenKeys parses PreviousTokenKeys; errors name the variable and
// the key's position, never its value.
func (c Config) previousTokenKeys() ([][]byte, error) {
	if strings.TrimSpace(c.PreviousTokenKeys) == "" {
		return nil, nil
	}
	if c.TokenKey == "" {
		return nil, fmt.Errorf("%s is set but %s is not: previous keys only open what the current key then rewrites", x.PreviousTokenKeyEnv, x.TokenKeyEnv)
	}
	var keys [][]byte
	for i, s := range strings.Split(c.PreviousTokenKeys, ",") {
		k, err := x.ParseTokenKeyOf(fmt.Sprintf("%s (key %d)", x.PreviousTokenKeyEnv, i+1), s)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}
