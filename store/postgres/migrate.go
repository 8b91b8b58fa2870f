package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

func loadMigrations() ([]storeutil.Migration, error) {
	ms, err := storeutil.LoadMigrations(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`

// Migrate applies missing migrations in one transaction. An advisory lock
// makes nodes that start together migrate one after the other; the later
// ones find nothing to do.
func (s *Store) Migrate(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockClassMigrate, s.lockKey); err != nil {
			return interpretError(err)
		}
		if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
			return interpretError(err)
		}
		v, err := databaseVersion(ctx, tx)
		if err != nil {
			return err
		}
		if err := storeutil.CheckVersion(store.SchemaVersion{Database: v, Binary: len(s.migrations)}, true); err != nil {
			return err
		}
		for _, m := range s.migrations[v:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, interpretError(err))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return interpretError(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate schema %s: %w", s.schema, err)
	}
	return nil
}

// SchemaVersion reads the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (store.SchemaVersion, error) {
	v, err := databaseVersion(ctx, s.pool)
	if err != nil {
		return store.SchemaVersion{}, fmt.Errorf("postgres: schema version: %w", err)
	}
	return store.SchemaVersion{Database: v, Binary: len(s.migrations)}, nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func databaseVersion(ctx context.Context, q querier) (int, error) {
	var v int
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table: never migrated
		return 0, nil
	}
	return v, interpretError(err)
}
