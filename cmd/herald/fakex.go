package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
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
at every start. Tokens of an account given a refresh token expire after 2
hours as X's do (refresh them at POST /2/oauth2/token); those of an
account without one never expire. With no --user, the demo account
"demo" is registered with the access token "demo-access-token".

The page at / lists the accepted posts. Tests and demos steer the fake
through /_fake/: GET /_fake/posts and /_fake/requests; POST /_fake/faults
(e.g. {"endpoint":"POST /2/tweets","status":503,"count":2}),
/_fake/users and /_fake/metrics; DELETE /_fake/faults.`

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
	fs := newFlagSet("fake-x", "[--listen ADDR] [--user NAME:ACCESS_TOKEN[:REFRESH_TOKEN[:CLIENT_ID]]]... [--log-format json|text]", fakeXHelp, env.stderr)
	var (
		userArgs  userFlags
		listen    string
		logFormat string
	)
	fs.StringVar(&listen, "listen", "127.0.0.1:8081", "address to serve the fake X API on")
	fs.Var(&userArgs, "user", "an account, NAME:ACCESS_TOKEN[:REFRESH_TOKEN[:CLIENT_ID]]; repeatable (default: demo:demo-access-token)")
	fs.StringVar(&logFormat, "log-format", "text", "log format: json or text")
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
	logger, err := newLogger(env.stderr, logFormat, "info")
	if err != nil {
		return usageError(fs, "%v", err)
	}
	if len(users) == 0 {
		users = []fakex.User{{ID: userID(demoUsername), Username: demoUsername, Name: "Demo", AccessToken: demoAccessToken, TokenTTL: -1}}
	}

	srv := fakex.New(fakex.Options{Logger: logger})
	for _, u := range users {
		srv.AddUser(u)
		logger.Info("fake x account", slog.String("username", u.Username), slog.String("user_id", u.ID),
			slog.Bool("refreshable", u.RefreshToken != ""))
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
