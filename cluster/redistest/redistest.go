// Package redistest gives each test its own key prefix in the test Redis,
// so test packages (and herald processes they start) share one server
// without seeing each other's keys.
//
// The server comes from HERALD_TEST_REDIS_URL (default
// redis://127.0.0.1:6379/0). When it is unreachable the test is skipped,
// or fails when CI=true, with how to start it.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvURL names the environment variable with the test server's URL.
const EnvURL = "HERALD_TEST_REDIS_URL"

// DefaultURL is the test server when EnvURL is unset.
const DefaultURL = "redis://127.0.0.1:6379/0"

const startHint = "start it with: redis-server --daemonize yes --port 6379 --save '' (or set " + EnvURL + ")"

// URL returns the test server's URL.
func URL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

// Open returns a client of the test server and a fresh key prefix
// ("herald_test_<random>:"); every key under the prefix is deleted in
// tb.Cleanup, and the client closed.
func Open(tb testing.TB) (*redis.Client, string) {
	tb.Helper()
	opts, err := redis.ParseURL(URL())
	if err != nil {
		tb.Fatalf("redistest: %s: %v", EnvURL, err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		if os.Getenv("CI") == "true" {
			tb.Fatalf("redistest: Redis at %s is unreachable (%v); %s", URL(), err, startHint)
		}
		tb.Skipf("redistest: Redis at %s is unreachable (%v); %s", URL(), err, startHint)
	}
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "herald_test_" + hex.EncodeToString(b) + ":"
	tb.Cleanup(func() {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return c, prefix
}
