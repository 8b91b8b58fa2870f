package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/postgres"
	"github.com/herald-social/herald/store/postgres/pgtest"
	"github.com/herald-social/herald/store/storetest"
)

var harness = storetest.Harness{
	Open: func(tb testing.TB) store.Store { return pgtest.Open(tb) },
	Exec: func(tb testing.TB, s store.Store, sql string) {
		if _, err := s.(*postgres.Store).Pool().Exec(context.Background(), sql); err != nil {
			tb.Fatalf("exec: %v", err)
		}
	},
	Reopen: func(tb testing.TB, s store.Store, migrate bool) (store.Store, error) {
		return pgtest.Reopen(tb, s.(*postgres.Store), postgres.Options{Migrate: migrate})
	},
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, harness)
}

func BenchmarkCreateJobs(b *testing.B)      { storetest.BenchmarkCreateJobs(b, harness) }
func BenchmarkClaimTransition(b *testing.B) { storetest.BenchmarkClaimTransition(b, harness) }
func BenchmarkBurst(b *testing.B)           { storetest.BenchmarkBurst(b, harness) }
func BenchmarkCreateSecondBurst(b *testing.B) {
	b.Run("create", func(b *testing.B) { storetest.BenchmarkCreateSecondBurst(b, harness, false) })
	b.Run("create+claim", func(b *testing.B) { storetest.BenchmarkCreateSecondBurst(b, harness, true) })
	b.Run("create+claim+post", func(b *testing.B) { storetest.BenchmarkCreateSecondBurstPosts(b, harness) })
}

// TestConcurrentMigrate starts several nodes on one empty schema at once: the
// advisory lock lets one migrate and the others find the work done.
func TestConcurrentMigrate(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Config(t)
	const nodes = 6
	errs := make(chan error, nodes)
	for range nodes {
		go func() {
			c := cfg.Copy()
			c.MaxConns = 1
			s, err := postgres.OpenConfig(context.Background(), c, postgres.Options{Migrate: true})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range nodes {
		if err := <-errs; err != nil {
			t.Errorf("concurrent migrate: %v", err)
		}
	}
	s, err := postgres.OpenConfig(context.Background(), cfg.Copy(), postgres.Options{})
	if err != nil {
		t.Fatalf("open after migrating: %v", err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(context.Background()); err != nil || v.Database != v.Binary {
		t.Errorf("SchemaVersion = %+v, %v", v, err)
	}
}

// TestUnmigrated: without Migrate, an empty schema is refused as too old.
func TestUnmigrated(t *testing.T) {
	t.Parallel()
	_, err := postgres.OpenConfig(context.Background(), pgtest.Config(t), postgres.Options{})
	if !errors.Is(err, store.ErrSchemaTooOld) {
		t.Fatalf("open unmigrated: %v, want ErrSchemaTooOld", err)
	}
}

// oldSchema creates a fresh schema as the first migrations left it, with
// rows, and returns its pool configuration.
func oldSchema(t *testing.T, version int, rows ...string) *pgxpool.Config {
	t.Helper()
	ctx := context.Background()
	cfg := pgtest.Config(t)
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	stmts := []string{`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`}
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) < version {
		t.Fatalf("migration files: %v, %v", files, err)
	}
	for v, name := range files[:version] {
		m, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, string(m), fmt.Sprintf(`INSERT INTO schema_migrations (version, name) VALUES (%d, 'old')`, v+1))
	}
	for _, q := range append(stmts, rows...) {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("set up schema %d: %v", version, err)
		}
	}
	return cfg
}

// upgrade checks that a schema at an old version is refused without
// migrating, and returns it migrated.
func upgrade(t *testing.T, cfg *pgxpool.Config) store.Store {
	t.Helper()
	ctx := context.Background()
	if _, err := postgres.OpenConfig(ctx, cfg.Copy(), postgres.Options{}); !errors.Is(err, store.ErrSchemaTooOld) {
		t.Fatalf("open an old schema without migrating: %v, want ErrSchemaTooOld", err)
	}
	s, err := postgres.OpenConfig(ctx, cfg.Copy(), postgres.Options{Migrate: true})
	if err != nil {
		t.Fatalf("migrate an old schema: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestUpgradeFromSchema1 migrates a schema as Herald's first migration left
// it, with a job in flight.
func TestUpgradeFromSchema1(t *testing.T) {
	t.Parallel()
	cfg := oldSchema(t, 1, `INSERT INTO jobs (schedule_id, planned_at, due_at, status, attempt, run, trigger_kind, created_at, updated_at)
			VALUES ('s', 1, 1, 'retrying', 2, 1, 'scheduled', 1, 1)`)
	storetest.CheckUpgraded(t, upgrade(t, cfg))
}

// TestUpgradeFromSchema2 migrates a schema at version 2 with jobs in every
// stage: they read without a post, with what they may have sent.
func TestUpgradeFromSchema2(t *testing.T) {
	t.Parallel()
	cfg := oldSchema(t, 2, storetest.Schema2Jobs(func(ids ...string) string {
		quoted := make([]string, len(ids))
		for i, id := range ids {
			quoted[i] = "'" + id + "'"
		}
		return "ARRAY[" + strings.Join(quoted, ", ") + "]::text[]"
	})...)
	storetest.CheckUpgradedFrom2(t, upgrade(t, cfg))
}

// TestUpgradeFromSchema3 migrates a schema at version 3 whose pauses and
// nodes were JSON documents of the key-value state.
func TestUpgradeFromSchema3(t *testing.T) {
	t.Parallel()
	cfg := oldSchema(t, 3, storetest.Schema3Rows(func(s string) string {
		return fmt.Sprintf(`'\x%x'::bytea`, s)
	})...)
	storetest.CheckUpgradedFrom3(t, upgrade(t, cfg))
}
