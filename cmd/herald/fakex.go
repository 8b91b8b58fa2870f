package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/herald-social/herald/platform/x/fakex"
)

const fakeXHelp = `Serves a fake X API v2 (package platform/x/fakex) for demos and
out-of-process tests: posts, media uploads, metrics lookups, OAuth 2.0
token refresh, rate limits and problem JSON as X answers them. Point
Herald's X base URL at the address it prints. SIGINT or SIGTERM stop it.

Accounts come from --user NAME:ACCESS_TOKEN[:REFRESH_TOKEN[:CLIENT_ID]]
(repeatable). An account's id is derived from its name, so it is the same
at every start. Tokens of an account given a refresh token expire after
--access-token-ttl, 2 hours as X's by default (refresh them at POST
/2/oauth2/token, which issues tokens of the same life and refuses a spent
refresh token); those of an account without one never expire. With no --user, the demo account
"demo" is registered with the access token "demo-access-token".

As on X, a post with media gets " https://t.co/..." appended to its
text; --timeline-lag keeps a new post out of GET /2/users/:id/tweets for
a while (lookups by id find it at once); --duplicate-window sets how far
back a post with the same text is a duplicate (default: forever).

Faults: --fault JSON injects one at start, as POST /_fake/faults takes it
(repeatable), e.g.
  {"endpoint":"POST /2/tweets","after_store":true,"status":503}
    stores the post, then answers 503;
  {"endpoint":"POST /2/tweets","after_store":true,"latency":"1m"}
    stores it, then holds the answer back for a minute;
  {"endpoint":"POST /2/tweets","status":429,"omit_headers":["x-rate-limit-reset"]}
  {"endpoint":"POST /2/tweets","status":429,"exhausted_24h":"user","reset_24h":"2026-07-01T00:00:00Z"}
Members: endpoint, user, count (0: once, -1: until cleared), status,
body, latency, after_store, drop_before_store, drop_after_store, reset,
remaining, omit_headers, exhausted_24h (user or app), reset_24h,
fail_processing.

Chaos, for soak tests: with --chaos-rate R, each request to POST
/2/tweets, GET /2/users/:id/tweets or a media endpoint gets, with
probability R, a fault drawn from --chaos-faults (default all:
drop_before_store, drop_after_store, store_then_5xx, store_then_hang,
5xx, 429, 429_missing_headers, latency) by a generator seeded with
--chaos-seed: the same requests in the same order meet the same faults.
A hang lasts --chaos-hang, a latency up to that; a chaos 429 resets
--chaos-reset ahead. --chaos-rate 1 with one kind makes that fault
certain. Each faulted request is marked "fault" (and "chaos" with its
kind) in GET /_fake/requests.

The page at / lists the accepted posts. Tests and demos steer the fake
through /_fake/: GET /_fake/posts (each post's id, author_id, username,
text as stored, authored_text, media_ids, reply_to, created_at) and
/_fake/requests; POST /_fake/faults (e.g.
{"endpoint":"POST /2/tweets","status":503,"count":2}), /_fake/users and
/_fake/metrics; DELETE /_fake/faults; GET, PUT and DELETE /_fake/chaos
(e.g. {"rate":0.1,"seed":7,"kinds":["5xx"],"hang":"30s","reset":"3s"}).`

// The account registered when no --user is given, documented in the help.
const (
	demoUsername    = "demo"
	demoAccessToken = "demo-access-token"
)

// userFlags collects the repeated --user flags as given; they are parsed
// after the flags, because the flag package quotes a refused value in its
// message and these hold tokens.
type userFlags []string

func (u *userFlags) String() string { return "" }

func (u *userFlags) Set(v string) error {
	*u = append(*u, v)
	return nil
}

// faultFlags collects the repeated --fault flags, parsed after the flags.
type faultFlags []string

func (f *faultFlags) String() string { return "" }

func (f *faultFlags) Set(v string) error {
	*f = append(*f, v)
	return nil
}

// fakeXFaults are the flags that make the fake misbehave.
type fakeXFaults struct {
	timelineLag, duplicateWindow time.Duration
	faults                       faultFlags
	chaosRate                    float64
	chaosSeed                    uint64
	chaosKinds                   string
	chaosHang, chaosReset        time.Duration
}

func (f *fakeXFaults) register(fs *flag.FlagSet) {
	fs.DurationVar(&f.timelineLag, "timeline-lag", 0, "how long a new post stays out of GET /2/users/:id/tweets")
	fs.DurationVar(&f.duplicateWindow, "duplicate-window", 0, "how far back a post with the same text is a duplicate (0: forever)")
	fs.Var(&f.faults, "fault", "a fault to inject at start, as POST /_fake/faults takes it (JSON); repeatable")
	fs.Float64Var(&f.chaosRate, "chaos-rate", 0, "probability, 0 to 1, that a request gets a random fault")
	fs.Uint64Var(&f.chaosSeed, "chaos-seed", 0, "seed of the random faults")
	fs.StringVar(&f.chaosKinds, "chaos-faults", "all", "comma-separated kinds of random fault: all, or some of "+chaosKindList())
	fs.DurationVar(&f.chaosHang, "chaos-hang", 30*time.Second, "how long a store_then_hang lasts, and the most a latency fault waits")
	fs.DurationVar(&f.chaosReset, "chaos-reset", 3*time.Second, "how far ahead a chaos 429's x-rate-limit-reset is")
}

func chaosKindList() string {
	var names []string
	for _, k := range fakex.ChaosKinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ",")
}

// options validates the flags and returns what they ask of the fake and
// the faults to inject.
func (f *fakeXFaults) options() (fakex.Options, []fakex.Fault, error) {
	switch {
	case f.timelineLag < 0:
		return fakex.Options{}, nil, fmt.Errorf("--timeline-lag %s: want 0 or more", f.timelineLag)
	case f.duplicateWindow < 0:
		return fakex.Options{}, nil, fmt.Errorf("--duplicate-window %s: want 0 or more", f.duplicateWindow)
	case math.IsNaN(f.chaosRate) || f.chaosRate < 0 || f.chaosRate > 1:
		return fakex.Options{}, nil, fmt.Errorf("--chaos-rate %v: want 0 to 1", f.chaosRate)
	case f.chaosHang <= 0:
		return fakex.Options{}, nil, fmt.Errorf("--chaos-hang %s: want more than 0", f.chaosHang)
	case f.chaosReset <= 0:
		return fakex.Options{}, nil, fmt.Errorf("--chaos-reset %s: want more than 0", f.chaosReset)
	}
	kinds, err := fakex.ParseChaosKinds(f.chaosKinds)
	if err != nil {
		return fakex.Options{}, nil, fmt.Errorf("--chaos-faults: %w", err)
	}
	chaos := fakex.Chaos{Rate: f.chaosRate, Seed: f.chaosSeed, Kinds: kinds, Hang: f.chaosHang, Reset: f.chaosReset}
	if err := chaos.Validate(); err != nil {
		return fakex.Options{}, nil, fmt.Errorf("chaos: %w", err)
	}
	var faults []fakex.Fault
	for _, raw := range f.faults {
		fault, err := fakex.ParseFault([]byte(raw))
		if err != nil {
			return fakex.Options{}, nil, fmt.Errorf("--fault: %w", err)
		}
		faults = append(faults, fault)
	}
	return fakex.Options{TimelineLag: f.timelineLag, DuplicateWindow: f.duplicateWindow, Chaos: chaos}, faults, nil
}

// usernamePattern is X's rule for handles.
var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,15}$`)

// parseUsers parses each NAME:ACCESS_TOKEN[:REFRESH_TOKEN[:CLIENT_ID]].
// Its errors never quote a token.
func parseUsers(flags []string) ([]fakex.User, error) {
	var users []fakex.User
	for _, v := range flags {
		parts := strings.Split(v, ":")
		name := parts[0]
		switch {
		case len(parts) < 2 || len(parts) > 4:
			return nil, errors.New("--user: want NAME:ACCESS_TOKEN[:REFRESH_TOKEN[:CLIENT_ID]]")
		case !usernamePattern.MatchString(name):
			return nil, fmt.Errorf("--user: user name %q: want 1 to 15 letters, digits or underscores, as X handles", name)
		case parts[1] == "":
			return nil, fmt.Errorf("--user: user %s: empty access token", name)
		}
		for _, x := range users {
			if strings.EqualFold(x.Username, name) {
				return nil, fmt.Errorf("--user: user %s given twice", name)
			}
		}
		user := fakex.User{ID: userID(name), Username: name, AccessToken: parts[1], TokenTTL: -1}
		if len(parts) > 2 && parts[2] != "" {
			user.RefreshToken, user.TokenTTL = parts[2], 0
		}
		if len(parts) > 3 {
			user.ClientID = parts[3]
		}
		users = append(users, user)
	}
	return users, nil
}

// userID derives a stable 18-digit X-style id from an account's name.
func userID(name string) string {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(name)))
	return strconv.FormatUint(h.Sum64()%900_000_000_000_000_000+100_000_000_000_000_000, 10)
}

func runFakeX(env *cliEnv, args []string) int {
	fs := newFlagSet("fake-x", "[--listen ADDR] [--user NAME:ACCESS_TOKEN[:REFRESH_TOKEN[:CLIENT_ID]]]... [--log-format json|text]\n"+
		"         [--access-token-ttl D] [--timeline-lag D] [--duplicate-window D] [--fault JSON]...\n"+
		"         [--chaos-rate R --chaos-seed N --chaos-faults LIST --chaos-hang D --chaos-reset D]", fakeXHelp, env.stderr)
	var (
		userArgs  userFlags
		listen    string
		logFormat string
		tokenTTL  time.Duration
		misbehave fakeXFaults
	)
	fs.StringVar(&listen, "listen", "127.0.0.1:8081", "address to serve the fake X API on")
	fs.Var(&userArgs, "user", "an account, NAME:ACCESS_TOKEN[:REFRESH_TOKEN[:CLIENT_ID]]; repeatable (default: demo:demo-access-token)")
	fs.StringVar(&logFormat, "log-format", "text", "log format: json or text")
	fs.DurationVar(&tokenTTL, "access-token-ttl", 2*time.Hour, "life of the OAuth 2.0 access tokens of accounts with a refresh token, and of those a refresh issues")
	misbehave.register(fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return parseStatus(err)
	}
	if len(rest) > 0 {
		return usageError(fs, "fake-x takes no arguments, got %q", rest)
	}
	users, err := parseUsers(userArgs)
	if err != nil {
		return usageError(fs, "%v", err)
	}
	opts, faults, err := misbehave.options()
	if err != nil {
		return usageError(fs, "%v", err)
	}
	if tokenTTL < time.Second {
		return usageError(fs, "--access-token-ttl %s: want 1s or more", tokenTTL)
	}
	opts.AccessTokenTTL = tokenTTL
	logger, err := newLogger(env.stderr, logFormat, "info")
	if err != nil {
		return usageError(fs, "%v", err)
	}
	if len(users) == 0 {
		users = []fakex.User{{ID: userID(demoUsername), Username: demoUsername, Name: "Demo", AccessToken: demoAccessToken, TokenTTL: -1}}
	}

	opts.Logger = logger
	srv := fakex.New(opts)
	for _, u := range users {
		srv.AddUser(u)
		logger.Info("fake x account", slog.String("username", u.Username), slog.String("user_id", u.ID),
			slog.Bool("refreshable", u.RefreshToken != ""))
	}
	for _, f := range faults {
		srv.Inject(f)
		logger.Info("fake x fault", slog.String("endpoint", f.Endpoint), slog.Int("status", f.Status), slog.Int("count", f.Count))
	}
	if c := srv.Chaos(); c.Rate > 0 {
		logger.Info("fake x chaos", slog.Float64("rate", c.Rate), slog.Uint64("seed", c.Seed), slog.Any("kinds", c.Kinds),
			slog.Duration("hang", c.Hang), slog.Duration("reset", c.Reset))
	}
	if opts.TimelineLag > 0 || opts.DuplicateWindow > 0 || tokenTTL != 2*time.Hour {
		logger.Info("fake x timing", slog.Duration("timeline_lag", opts.TimelineLag), slog.Duration("duplicate_window", opts.DuplicateWindow),
			slog.Duration("access_token_ttl", tokenTTL))
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintf(env.stderr, "herald fake-x: %v\n", err)
		return exitCheck
	}
	fmt.Fprintf(env.stdout, "fake X API listening on http://%s\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		logger.Error("fake x stopped", slog.String("error", err.Error()))
		return exitCheck
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		// Requests held by latency faults do not delay the exit further.
		_ = hs.Close()
	}
	logger.Info("fake x stopped")
	return exitOK
}
