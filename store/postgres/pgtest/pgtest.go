// Package pgtest gives each test its own PostgreSQL schema, so test packages
// run in parallel against one server without seeing each other's rows.
//
// The server comes from HERALD_TEST_POSTGRES_URL (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). When it is
// unreachable the test is skipped, or fails when CI=true, with how to start
// it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-social/herald/store/postgres"
)

// EnvURL names the environment variable with the test server's URL.
const EnvURL = "HERALD_TEST_POSTGRES_URL"

// DefaultURL is the test server when EnvURL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

const startHint = "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start " +
	"(or set " + EnvURL + ")"

// URL returns the test server's URL.
func URL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

// Config creates a fresh schema herald_test_<random> and returns a pool
// configuration whose search_path is that schema. The schema is dropped in
// tb.Cleanup, after everything registered later (the store's Close).
func Config(tb testing.TB) *pgxpool.Config {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := pgxpool.ParseConfig(URL())
	if err != nil {
		tb.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		unreachable(tb, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "herald_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("pgtest: create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
		if err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	// Tests run many pools side by side on a small server: keep each small.
	cfg.MaxConns = 4
	return cfg
}

func unreachable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("pgtest: PostgreSQL at %s is unreachable (%v); %s", URL(), err, startHint)
	}
	tb.Skipf("pgtest: PostgreSQL at %s is unreachable (%v); %s", URL(), err, startHint)
}

// Open returns a migrated store in a fresh schema, closed in tb.Cleanup.
func Open(tb testing.TB) *postgres.Store {
	tb.Helper()
	s, err := postgres.OpenConfig(context.Background(), Config(tb), postgres.Options{Migrate: true})
	if err != nil {
		tb.Fatalf("pgtest: open store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Reopen opens s's schema again through postgres.OpenConfig; the caller
// closes the result.
func Reopen(tb testing.TB, s *postgres.Store, opts postgres.Options) (*postgres.Store, error) {
	tb.Helper()
	cfg := s.Pool().Config()
	cfg.MaxConns = 2
	return postgres.OpenConfig(context.Background(), cfg, opts)
}

// SchemaURL creates a fresh schema as Config does and returns a database
// URL that connects into it (its search_path), for tests that hand a URL to
// another process, such as a real `herald serve`.
func SchemaURL(tb testing.TB) string {
	tb.Helper()
	schema := Config(tb).ConnConfig.RuntimeParams["search_path"]
	u, err := url.Parse(URL())
	if err != nil {
		tb.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
