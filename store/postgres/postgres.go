// Package postgres is the clustered store: PostgreSQL through a pgx/v5
// connection pool, shared by every Herald node.
//
// Write transactions of one schema are serialised by a transaction-level
// advisory lock taken first thing. That is what makes event IDs (a sequence)
// commit in order, so a reader resuming the event stream after the last ID it
// saw never skips an event that committed late; it also makes deadlocks
// between writers impossible. The cost is that writes do not run in
// parallel, which the batched API keeps cheap: a burst of 10,000 fires is a
// handful of transactions, not 10,000. Row locks (FOR UPDATE SKIP LOCKED)
// are still taken on claims, so the claim stays correct for any writer that
// does not use this package.
//
// The package must not import Herald's actors, engine or cmd.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

// Options configure Open, OpenConfig and New.
type Options struct {
	// Migrate applies missing migrations at open. Without it, a database
	// that lacks migrations is refused with store.ErrSchemaTooOld.
	Migrate bool
}

// Store is the Postgres implementation of store.Store. Its tables live in the
// first schema of the connection's search_path.
type Store struct {
	pool       *pgxpool.Pool
	ownPool    bool
	schema     string
	lockKey    int32 // advisory lock key of the schema (second half)
	migrations []storeutil.Migration
	closeOnce  sync.Once
}

var _ store.Store = (*Store)(nil)

// Advisory lock classes (first half of the two-int key); the second half is
// a hash of the schema, so test schemas in one database do not contend.
const (
	lockClassMigrate int32 = 0x48524d31 // "HRM1"
	lockClassWrite   int32 = 0x48525731 // "HRW1"
)

// Open connects to url (postgres:// or postgresql://, any pgx option) and
// checks the schema version, migrating first if opts.Migrate.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w: %w", store.ErrInvalid, err)
	}
	return OpenConfig(ctx, cfg, opts)
}

// OpenConfig is Open with a parsed pool configuration (for tests that set
// search_path, or callers that tune the pool).
func OpenConfig(ctx context.Context, cfg *pgxpool.Config, opts Options) (*Store, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s, err := New(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownPool = true
	return s, nil
}

// New wraps a pool the caller owns: Close leaves it open.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	migrations, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	s := &Store{pool: pool, migrations: migrations}
	var schema *string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", interpretError(err))
	}
	if schema == nil {
		return nil, fmt.Errorf("postgres: no schema of the search_path exists: %w", store.ErrInvalid)
	}
	s.schema = *schema
	h := fnv.New32a()
	h.Write([]byte(s.schema))
	s.lockKey = int32(h.Sum32())
	if opts.Migrate {
		if err := s.Migrate(ctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if err := storeutil.CheckVersion(v, false); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

// Pool returns the connection pool, for tools and tests that need raw SQL.
// Writes through it bypass the store's invariants.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Schema returns the schema the store's tables live in.
func (s *Store) Schema() string { return s.schema }

// Close closes the pool if Open created it. Safe to call twice.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.ownPool {
			s.pool.Close()
		}
	})
	return nil
}

// write runs fn in a transaction holding the schema's write lock.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockClassWrite, s.lockKey); err != nil {
			return interpretError(err)
		}
		return fn(tx)
	})
	return interpretError(err)
}

// interpretError translates driver errors into store sentinels, keeping the
// original in the chain.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return err // already interpreted
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505", // unique_violation
			"40001", // serialization_failure
			"40P01": // deadlock_detected
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		}
	}
	return err
}
