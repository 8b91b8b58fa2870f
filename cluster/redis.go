package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options says how to reach Redis.
type Options struct {
	// URL is redis://[USER[:PASSWORD]@]HOST:PORT[/DB] or rediss:// (TLS),
	// as go-redis parses it.
	URL string
	// Password, when set, is a secret reference (env:NAME or
	// file:/absolute/path) to the password, which then replaces any in URL:
	// a password in a URL shows in the process list and in logs.
	Password string
	// Getenv reads the environment (os.Getenv when nil).
	Getenv func(string) string
}

// ParseURL checks a Redis URL and returns go-redis's options for it; the
// error names the flag.
func ParseURL(raw string) (*redis.Options, error) {
	o, err := redis.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("--redis %s: %w", Redact(raw), err)
	}
	return o, nil
}

// Open returns a client of the Redis o names. It does not connect: a node
// starts while Redis is down and uses it once it answers (go-redis
// reconnects on its own).
func Open(o Options) (*redis.Client, error) {
	opts, err := ParseURL(o.URL)
	if err != nil {
		return nil, err
	}
	if o.Password != "" {
		p, err := readSecret(o.Password, o.Getenv)
		if err != nil {
			return nil, fmt.Errorf("--redis-password: %w", err)
		}
		opts.Password = p
	}
	// Short timeouts: Redis is a fast path, and every caller has a slower
	// one (the store) to fall back on. A node waiting seconds for a Redis
	// that is paused would hold its fires back for nothing.
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = 500 * time.Millisecond
	opts.WriteTimeout = 500 * time.Millisecond
	opts.MaxRetries = 1
	// One dial per attempt (go-redis's default is five, 100 ms apart), and
	// callers' deadlines applied to socket reads: a Redis that is down
	// must cost a caller one quick failure, not half a second.
	opts.DialerRetries = 1
	opts.ContextTimeoutEnabled = true
	opts.ClientName = "herald"
	return redis.NewClient(opts), nil
}

// Ping checks that Redis answers, within timeout.
func Ping(ctx context.Context, c *redis.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return c.Ping(ctx).Err()
}

// readSecret resolves env:NAME or file:/absolute/path; a file's trailing
// newline is not part of the secret.
func readSecret(ref string, getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	scheme, name, ok := strings.Cut(ref, ":")
	switch {
	case ok && scheme == "env" && name != "":
		v := getenv(name)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is empty or not set", name)
		}
		return v, nil
	case ok && scheme == "file" && strings.HasPrefix(name, "/"):
		b, err := os.ReadFile(name)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", errors.New("must be a secret reference, env:NAME or file:/absolute/path")
}

// Redact hides the password of a Redis URL, for logs and errors.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable Redis URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
