// Package open opens a store.Store from a database URL, choosing the driver
// by the URL's scheme. It is the one place that knows every driver, so that
// package store stays free of them (and of a registry, which would be
// package-level mutable state).
//
// Accepted URLs:
//
//	postgres://user@host:5432/db?sslmode=disable   (or postgresql://; any pgx option)
//	sqlite:herald.db                               (a file, created if missing)
//	sqlite:///var/lib/herald/herald.db             (sqlite:// + an absolute path)
//	sqlite::memory:                                (private, in memory: tests)
package open

import (
	"context"
	"fmt"
	"strings"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/postgres"
	"github.com/herald-social/herald/store/sqlite"
)

// DefaultURL is the database of `herald serve` when none is configured: the
// embedded store, next to the working directory.
const DefaultURL = "sqlite:herald.db"

// Options configure Open.
type Options struct {
	// Migrate applies missing migrations at open (what `herald serve` does at
	// start-up). Without it, a database lacking migrations is refused with
	// store.ErrSchemaTooOld. A database newer than the binary is refused with
	// store.ErrSchemaTooNew either way.
	Migrate bool
}

// Driver names a store implementation.
type Driver string

const (
	Postgres Driver = "postgres"
	SQLite   Driver = "sqlite"
)

// Parse splits a database URL into its driver and the driver's data source
// (the URL itself for Postgres, the file path for SQLite).
func Parse(url string) (Driver, string, error) {
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return Postgres, url, nil
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(url, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return "", "", fmt.Errorf("database URL %q has no path: %w", url, store.ErrUnsupportedURL)
		}
		return SQLite, path, nil
	}
	return "", "", fmt.Errorf("database URL %q: want postgres://, postgresql:// or sqlite:PATH: %w", Redact(url), store.ErrUnsupportedURL)
}

// Open opens the store url names.
func Open(ctx context.Context, url string, opts Options) (store.Store, error) {
	driver, dsn, err := Parse(url)
	if err != nil {
		return nil, err
	}
	switch driver {
	case Postgres:
		return postgres.Open(ctx, dsn, postgres.Options{Migrate: opts.Migrate})
	default:
		return sqlite.Open(ctx, dsn, sqlite.Options{Migrate: opts.Migrate})
	}
}

// Redact hides the user information (which may hold a password) of a
// database URL, so that it can be logged or shown in an error.
func Redact(url string) string {
	if at := strings.LastIndex(url, "@"); at >= 0 {
		if scheme := strings.Index(url, "://"); scheme >= 0 && scheme < at {
			return url[:scheme+3] + "REDACTED" + url[at:]
		}
	}
	return url
}
