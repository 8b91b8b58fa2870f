// Package sqlite is the embedded store: a single SQLite file (or memory),
// through the pure-Go modernc.org/sqlite driver, so the herald binary needs
// no cgo and no server. It is the default for `herald serve` on one node.
//
// SQLite allows one writer at a time. The store therefore keeps two pools:
// one writer connection, on which every write transaction queues (in Go,
// under the caller's context) and starts with BEGIN IMMEDIATE, and a pool of
// readers that WAL lets run alongside it. Queueing in-process instead of
// letting connections race for the file lock keeps "database is locked" out
// of normal operation; busy_timeout still covers other processes (a `herald
// migrate` next to a running server).
//
// The package must not import Herald's actors, engine or cmd.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

// Memory is the path of a private in-memory database, for tests. It lives as
// long as the Store and uses one connection for reads and writes.
const Memory = ":memory:"

// Options configure Open.
type Options struct {
	// Migrate applies missing migrations at Open. Without it, Open refuses a
	// database that lacks migrations with store.ErrSchemaTooOld.
	Migrate bool
}

// Store is the SQLite implementation of store.Store.
type Store struct {
	path       string
	w          *sql.DB // the single writer connection
	r          *sql.DB // readers; == w for Memory
	migrations []storeutil.Migration
	closeOnce  sync.Once
	closeErr   error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path, or a private
// in-memory one for Memory. A database newer than this binary is refused
// with store.ErrSchemaTooNew whatever the options.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: path %q is empty or has a query: %w", path, store.ErrInvalid)
	}
	migrations, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, migrations: migrations}
	// WAL: readers do not block the writer nor it them. synchronous=NORMAL
	// is durable across application crashes in WAL mode (an OS crash may
	// lose the last transactions, not corrupt the file).
	const pragmas = "_busy_timeout=10000&_foreign_keys=1&_txlock=immediate"
	if path == Memory {
		if s.w, err = sql.Open("sqlite", "file::memory:?"+pragmas); err != nil {
			return nil, fmt.Errorf("sqlite: open memory: %w", err)
		}
		// Each connection to :memory: is its own database: keep exactly one,
		// forever.
		s.w.SetMaxOpenConns(1)
		s.w.SetConnMaxLifetime(0)
		s.w.SetConnMaxIdleTime(0)
		s.r = s.w
	} else {
		if err := ownerOnly(path); err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		if s.w, err = sql.Open("sqlite", path+"?"+pragmas+"&_journal_mode=WAL&_synchronous=NORMAL"); err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		s.w.SetMaxOpenConns(1)
		if err := s.w.PingContext(ctx); err != nil { // creates the file and sets WAL before readers connect
			s.w.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, interpretError(err))
		}
		if s.r, err = sql.Open("sqlite", path+"?_busy_timeout=10000&_query_only=1"); err != nil {
			s.w.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		s.r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	}
	s.w.SetMaxIdleConns(1)
	if err := s.start(ctx, opts); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// ownerOnly creates the database file with mode 0600 when it does not
// exist, before SQLite does (SQLite would create it 0644 less the umask):
// it holds every post and, encrypted, the accounts' tokens. SQLite gives
// the -wal and -shm files it creates the database file's permissions.
// Existing files open to group or others (made by an older Herald) are
// narrowed to 0600 where this process may; where it may not, they are
// left as they are, for the operator to fix.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			_ = os.Chmod(p, fi.Mode().Perm()&0o700)
		}
	}
	return nil
}

func (s *Store) start(ctx context.Context, opts Options) error {
	if opts.Migrate {
		return s.Migrate(ctx)
	}
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	return storeutil.CheckVersion(v, false)
}

// DB returns the writer pool, for tools and tests that need raw SQL. Writes
// through it bypass the store's invariants.
func (s *Store) DB() *sql.DB { return s.w }

// Path returns the database path given to Open.
func (s *Store) Path() string { return s.path }

// Close closes both pools. Safe to call twice.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.r != s.w && s.r != nil {
			s.closeErr = s.r.Close()
		}
		s.closeErr = errors.Join(s.closeErr, s.w.Close())
	})
	return s.closeErr
}

// write runs fn in a write transaction (BEGIN IMMEDIATE, via _txlock) on the
// single writer connection.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return interpretError(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return interpretError(tx.Commit())
}

// interpretError translates driver errors into store sentinels, keeping the
// original in the chain.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		}
	}
	return err
}
