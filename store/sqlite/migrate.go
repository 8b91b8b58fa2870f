package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"strings"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

func loadMigrations() ([]storeutil.Migration, error) {
	ms, err := storeutil.LoadMigrations(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)`

// Migrate applies missing migrations in one immediate transaction, which also
// serialises concurrent migrators (other processes wait on busy_timeout).
func (s *Store) Migrate(ctx context.Context) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
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
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, interpretError(err))
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, m.Version, m.Name); err != nil {
				return interpretError(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// SchemaVersion reads the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (store.SchemaVersion, error) {
	v, err := databaseVersion(ctx, s.r)
	if err != nil {
		return store.SchemaVersion{}, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return store.SchemaVersion{Database: v, Binary: len(s.migrations)}, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func databaseVersion(ctx context.Context, q querier) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return 0, nil
	}
	return v, interpretError(err)
}
