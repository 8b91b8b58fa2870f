package postgres_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

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

// TestUpgradeFromSchema1 migrates a schema as Herald's first migration left
// it, with a job in flight.
func TestUpgradeFromSchema1(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := pgtest.Config(t)
	v1, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
		string(v1),
		`INSERT INTO schema_migrations (version, name) VALUES (1, 'init')`,
		`INSERT INTO jobs (schedule_id, planned_at, due_at, status, attempt, run, trigger_kind, created_at, updated_at)
			VALUES ('s', 1, 1, 'retrying', 2, 1, 'scheduled', 1, 1)`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("set up schema 1: %v", err)
		}
	}
	conn.Close(ctx)

	if _, err := postgres.OpenConfig(ctx, cfg.Copy(), postgres.Options{}); !errors.Is(err, store.ErrSchemaTooOld) {
		t.Fatalf("open schema 1 without migrating: %v, want ErrSchemaTooOld", err)
	}
	s, err := postgres.OpenConfig(ctx, cfg.Copy(), postgres.Options{Migrate: true})
	if err != nil {
		t.Fatalf("migrate schema 1: %v", err)
	}
	defer s.Close()
	storetest.CheckUpgraded(t, s)
}
