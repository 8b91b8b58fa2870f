// Package x publishes to X: it implements platform.Platform and
// platform.MetricsReader over the xapi client, per account, with the
// account's credentials (resolved from the references in the YAML), its
// rate-limit windows (a preset merged with explicit windows) and, for OAuth
// 2.0, token rotation stored encrypted in the store.
//
// Before every request it reserves the request in each window of the
// endpoint (ratelimit.Limiter); a refusal returns a platform.DeferredError
// and sends nothing, so a job over budget waits in `retrying` instead of
// occupying a publisher. Every response's headers correct the limiter, and
// a 429 blocks the endpoint until its reset.
//
// Accounts without credentials (or all of them, with DryRun) publish
// through the dry-run platform, and Configure says so.
//
// It must not import package store: it declares the small TokenStore (and
// RefreshLock) it needs, and the engine adapts its store (and Redis).
package x

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/platform/x/ratelimit"
	"github.com/herald-social/herald/platform/x/xapi"
	"github.com/herald-social/herald/schedules"
)

// DefaultBaseURL is X's API.
const DefaultBaseURL = "https://api.x.com"

// Options configure a Platform.
type Options struct {
	BaseURL    string       // default DefaultBaseURL
	HTTPClient *http.Client // default: xapi's
	UserAgent  string
	Timeout    time.Duration // per request; default xapi.DefaultTimeout
	// Store keeps the rotated OAuth 2.0 tokens, sealed (required); it
	// serializes the refreshes of the processes that share it.
	Store TokenStore
	// RefreshLock, when set, serializes each account's refreshes across
	// processes before the store does (a Redis lock in a cluster), so
	// that the processes that lose the race wait for the winner's pair
	// instead of polling the store. nil: the store alone.
	RefreshLock RefreshLock
	// TokenKey encrypts rotated OAuth 2.0 tokens at rest (32 bytes). It is
	// required as soon as an account has a refresh token.
	TokenKey []byte
	// PreviousTokenKeys are keys rotated away: they still open stored
	// states, which a node rewrites under TokenKey when it loads them
	// (HERALD_TOKEN_KEY_PREVIOUS; see Rekey).
	PreviousTokenKeys [][]byte
	Limiter           ratelimit.Limiter // default ratelimit.NewMemory(Clock)
	Clock             clock.Clock       // default clock.Real()
	Logger            *slog.Logger      // default: discard
	Secrets           Resolver
	// DryRun publishes through this platform (required): for accounts
	// without credentials, and for every account when ForceDryRun is set.
	DryRun      platform.Platform
	ForceDryRun bool
	// MediaBudget bounds the upload and processing of one post's media
	// together (a video may take minutes to process), apart from the
	// timeout of each request; default DefaultMediaBudget.
	MediaBudget time.Duration
	// TimelineLag is how long X may take to show a new post in the
	// account's timeline: "not there" proves nothing before; default
	// DefaultTimelineLag.
	TimelineLag time.Duration
	// ClockSkew is how far X's clock may be from ours, in the comparison
	// of a post's creation time with a job's first send; default 2s.
	ClockSkew time.Duration
}

// Defaults of Options.
const (
	DefaultMediaBudget = 15 * time.Minute
	DefaultTimelineLag = 30 * time.Second
)

// Platform routes each account's posts to X or to the dry run.
type Platform struct {
	opts Options

	mu       sync.RWMutex
	accounts map[string]*account

	lockHealth lockHealth // of opts.RefreshLock
}

// account is one configured account, ready to publish.
type account struct {
	def     *schedules.Account // the definition it was built from
	dryRun  bool
	client  *xapi.Client
	subject ratelimit.Subject
	windows map[string][]ratelimit.Window // by endpoint

	userMu sync.Mutex
	userID string // the authenticated user, looked up once

	// secrets is a digest of the resolved secrets the account was built
	// with, to notice a rotated secret file at a reload.
	secrets [sha256.Size]byte
}

// New returns a Platform with no accounts; Configure adds them.
func New(o Options) (*Platform, error) {
	if o.Store == nil || o.DryRun == nil {
		return nil, errors.New("x: Store and DryRun are required")
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.Limiter == nil {
		o.Limiter = ratelimit.NewMemory(o.Clock)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Timeout <= 0 {
		// The guard of each request is asked with the timeout the
		// client will give it.
		o.Timeout = xapi.DefaultTimeout
	}
	if o.MediaBudget <= 0 {
		o.MediaBudget = DefaultMediaBudget
	}
	if o.TimelineLag <= 0 {
		o.TimelineLag = DefaultTimelineLag
	}
	if o.ClockSkew <= 0 {
		o.ClockSkew = 2 * time.Second
	}
	return &Platform{opts: o, accounts: map[string]*account{}}, nil
}

// Configure makes the accounts of cfg ready: it resolves their secrets,
// loads rotated tokens, and computes their windows. An account whose
// definition did not change keeps its state (tokens, user id). It is all
// or nothing: on error (a missing variable, an unreadable file, no token
// key) nothing changes, and the error names the account and the field,
// never a secret.
func (p *Platform) Configure(ctx context.Context, cfg *schedules.Config) error {
	p.mu.RLock()
	old := p.accounts
	p.mu.RUnlock()
	next := make(map[string]*account, len(cfg.Accounts))
	var errs []error
	for name, def := range cfg.Accounts {
		if a, ok := old[name]; ok && reflect.DeepEqual(stripPos(a.def), stripPos(def)) {
			// Same references; the secrets behind them may have changed
			// (a mounted secret file rotated): reuse only if they did not.
			if sum, err := p.secretsSum(def); err == nil && sum == a.secrets {
				next[name] = a
				continue
			}
		}
		a, err := p.build(ctx, def)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: account %s: %w", def.Source, name, err))
			continue
		}
		next[name] = a
		switch {
		case a.dryRun && p.opts.ForceDryRun:
			p.opts.Logger.Info("account publishes in dry-run (--dry-run)", slog.String("account", name))
		case a.dryRun:
			p.opts.Logger.Warn("account publishes in dry-run: it has no credentials", slog.String("account", name))
		default:
			p.opts.Logger.Info("account publishes to X", slog.String("account", name), slog.String("auth", authKind(def)), slog.String("limits", def.Limits))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	p.mu.Lock()
	p.accounts = next
	p.mu.Unlock()
	return nil
}

func authKind(def *schedules.Account) string {
	if def.OAuth1 != nil {
		return "oauth1"
	}
	return "oauth2"
}

// stripPos drops what does not change behaviour from an account's
// definition, for comparison.
func stripPos(a *schedules.Account) schedules.Account {
	c := *a
	c.Source = schedules.Pos{}
	c.LimitWindows = append([]schedules.LimitWindow(nil), a.LimitWindows...)
	for i := range c.LimitWindows {
		c.LimitWindows[i].Source = schedules.Pos{}
	}
	return c
}

// build makes one account from its definition.
func (p *Platform) build(ctx context.Context, def *schedules.Account) (*account, error) {
	a := &account{def: def, subject: ratelimit.Subject{Account: def.Name}}
	if p.opts.ForceDryRun || (def.OAuth2 == nil && def.OAuth1 == nil) {
		a.dryRun = true
		return a, nil
	}
	base, err := ratelimit.Preset(def.Limits)
	if err != nil {
		return nil, fmt.Errorf("limits: %w", err)
	}
	explicit := make([]ratelimit.Window, len(def.LimitWindows))
	for i, w := range def.LimitWindows {
		explicit[i] = ratelimit.Window{Endpoint: w.Endpoint, Scope: ratelimit.Scope(w.Scope), Limit: w.Limit, Period: w.Per}
	}
	a.windows = map[string][]ratelimit.Window{}
	for _, w := range ratelimit.Merge(base, explicit) {
		a.windows[w.Endpoint] = append(a.windows[w.Endpoint], w)
	}

	var auth xapi.Auth
	res := p.opts.Secrets
	field := func(name string, ref schedules.SecretRef) (string, error) {
		v, err := res.Resolve(ref)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return v, nil
	}
	switch {
	case def.OAuth1 != nil:
		o := def.OAuth1
		var vals [4]string
		for i, f := range []struct {
			name string
			ref  schedules.SecretRef
		}{{"oauth1.consumer_key", o.ConsumerKey}, {"oauth1.consumer_secret", o.ConsumerSecret}, {"oauth1.access_token", o.AccessToken}, {"oauth1.access_token_secret", o.AccessTokenSecret}} {
			if vals[i], err = field(f.name, f.ref); err != nil {
				return nil, err
			}
		}
		auth = xapi.OAuth1(vals[0], vals[1], vals[2], vals[3])
		a.subject.App = appKey(vals[0])
	default:
		o := def.OAuth2
		access, err := field("oauth2.access_token", o.AccessToken)
		if err != nil {
			return nil, err
		}
		oa := &oauth2Auth{account: def.Name, st: p.opts.Store, lock: p.opts.RefreshLock, lockHealth: &p.lockHealth,
			clock: p.opts.Clock, logger: p.opts.Logger}
		env := tokenState{AccessToken: access}
		if !o.RefreshToken.IsZero() {
			if env.RefreshToken, err = field("oauth2.refresh_token", o.RefreshToken); err != nil {
				return nil, err
			}
			if oa.clientID, err = field("oauth2.client_id", o.ClientID); err != nil {
				return nil, fmt.Errorf("%w (refreshing needs the app's client id)", err)
			}
			if !o.ClientSecret.IsZero() {
				if oa.clientSecret, err = field("oauth2.client_secret", o.ClientSecret); err != nil {
					return nil, err
				}
			}
			if len(p.opts.TokenKey) == 0 {
				return nil, fmt.Errorf("oauth2.refresh_token is set but %s is not: X rotates refresh tokens, and Herald stores each new one encrypted with that key (make one with: openssl rand -base64 32)", TokenKeyEnv)
			}
			if oa.sealer, err = newSealer(p.opts.TokenKey, p.opts.PreviousTokenKeys...); err != nil {
				return nil, err
			}
			oa.seed = seedOf(p.opts.TokenKey, env.RefreshToken)
			env.Seed = oa.seed
			if oa.refresher, err = xapi.New(p.clientOptions(nil, nil)); err != nil {
				return nil, err
			}
		}
		if !o.ClientID.IsZero() && oa.clientID == "" {
			oa.clientID, _ = res.Resolve(o.ClientID)
		}
		if oa.clientID != "" {
			a.subject.App = appKey(oa.clientID)
		}
		if err := oa.load(ctx, env); err != nil {
			return nil, err
		}
		auth = oa
	}
	opts := p.clientOptions(auth, func(rl xapi.RateLimit) { p.observe(a, rl) })
	// Every request, each chunk of an upload and each poll included, is
	// counted against the account's windows before it is sent.
	opts.BeforeRequest = func(ctx context.Context, endpoint string) error { return p.reserve(ctx, a, endpoint) }
	client, err := xapi.New(opts)
	if err != nil {
		return nil, err
	}
	a.client = client
	if a.secrets, err = p.secretsSum(def); err != nil {
		return nil, err
	}
	return a, nil
}

// secretsSum digests the values behind every secret reference of def.
func (p *Platform) secretsSum(def *schedules.Account) ([sha256.Size]byte, error) {
	var refs []schedules.SecretRef
	if o := def.OAuth2; o != nil {
		refs = append(refs, o.AccessToken, o.RefreshToken, o.ClientID, o.ClientSecret)
	}
	if o := def.OAuth1; o != nil {
		refs = append(refs, o.ConsumerKey, o.ConsumerSecret, o.AccessToken, o.AccessTokenSecret)
	}
	h := sha256.New()
	for _, r := range refs {
		v := ""
		if !r.IsZero() {
			var err error
			if v, err = p.opts.Secrets.Resolve(r); err != nil {
				return [sha256.Size]byte{}, err
			}
		}
		fmt.Fprintf(h, "%d:%s", len(v), v)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum, nil
}

// appKey names an app for rate limiting without carrying its credential.
func appKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "app-" + hex.EncodeToString(sum[:8])
}

func (p *Platform) clientOptions(auth xapi.Auth, onRL func(xapi.RateLimit)) xapi.Options {
	return xapi.Options{BaseURL: p.opts.BaseURL, HTTPClient: p.opts.HTTPClient, UserAgent: p.opts.UserAgent,
		Timeout: p.opts.Timeout, Auth: auth, Clock: p.opts.Clock, OnRateLimit: onRL}
}

// observe corrects the limiter from one response's headers.
func (p *Platform) observe(a *account, rl xapi.RateLimit) {
	obs := ratelimit.Observation{Limit: rl.Limit, Remaining: rl.Remaining, Reset: rl.Reset}
	if h := rl.User24h; h != nil {
		obs.User24h = &ratelimit.Header{Limit: h.Limit, Remaining: h.Remaining, Reset: h.Reset}
	}
	if h := rl.App24h; h != nil {
		obs.App24h = &ratelimit.Header{Limit: h.Limit, Remaining: h.Remaining, Reset: h.Reset}
	}
	if err := p.opts.Limiter.Observe(context.Background(), a.subject, rl.Endpoint, obs); err != nil {
		p.opts.Logger.Warn("rate limit: recording headers failed", slog.String("account", a.def.Name), slog.String("error", err.Error()))
	}
}

func (p *Platform) account(name string) (*account, error) {
	p.mu.RLock()
	a := p.accounts[name]
	p.mu.RUnlock()
	if a == nil {
		return nil, fmt.Errorf("account %s is not configured: %w", name, platform.ErrPermanent)
	}
	return a, nil
}

// reserve takes one request of endpoint from the account's windows, or
// returns a DeferredError saying until when it must wait.
func (p *Platform) reserve(ctx context.Context, a *account, endpoint string) error {
	r, err := p.opts.Limiter.Reserve(ctx, a.subject, endpoint, a.windows[endpoint])
	if err != nil {
		return fmt.Errorf("rate limiter: %w: %w", platform.ErrTransient, err)
	}
	if !r.OK {
		return &platform.DeferredError{Until: r.RetryAt, Reason: fmt.Sprintf("%s window %s %d per %s is used up", endpoint, r.Window.Scope, r.Window.Limit, r.Window.Period)}
	}
	return nil
}

// Settled reports whether a Find at now that did not find a post of
// account sent before sentBefore proves it is not there (see
// Options.TimelineLag); for an account in dry run, the dry run decides.
func (p *Platform) Settled(account string, sentBefore, now time.Time) bool {
	if a, err := p.account(account); err == nil && a.dryRun {
		return p.opts.DryRun.Settled(account, sentBefore, now)
	}
	return !now.Before(sentBefore.Add(p.opts.TimelineLag))
}

// Windows returns the rate-limit windows of an account's endpoint, for
// status and metrics; nil for a dry-run or unknown account.
func (p *Platform) Windows(name string) (ratelimit.Subject, map[string][]ratelimit.Window) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	a := p.accounts[name]
	if a == nil || a.dryRun {
		return ratelimit.Subject{}, nil
	}
	return a.subject, a.windows
}
