package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/sqlite"
	"github.com/herald-social/herald/store/storetest"
)

// harness gives each test its own database file (WAL, a writer and readers:
// the production setup), or memory.
func harness(memory bool) storetest.Harness {
	return storetest.Harness{
		Open: func(tb testing.TB) store.Store {
			path := sqlite.Memory
			if !memory {
				path = filepath.Join(tb.TempDir(), "herald.db")
			}
			s, err := sqlite.Open(context.Background(), path, sqlite.Options{Migrate: true})
			if err != nil {
				tb.Fatalf("open %s: %v", path, err)
			}
			tb.Cleanup(func() { s.Close() })
			return s
		},
		Exec: func(tb testing.TB, s store.Store, sql string) {
			if _, err := s.(*sqlite.Store).DB().ExecContext(context.Background(), sql); err != nil {
				tb.Fatalf("exec: %v", err)
			}
		},
		Reopen: func(tb testing.TB, s store.Store, migrate bool) (store.Store, error) {
			path := s.(*sqlite.Store).Path()
			if path == sqlite.Memory {
				tb.Skip("a memory database cannot be reopened")
			}
			return sqlite.Open(context.Background(), path, sqlite.Options{Migrate: migrate})
		},
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, harness(false))
}

func TestConformanceMemory(t *testing.T) {
	t.Parallel()
	storetest.Run(t, harness(true))
}

func BenchmarkCreateJobs(b *testing.B)      { storetest.BenchmarkCreateJobs(b, harness(false)) }
func BenchmarkClaimTransition(b *testing.B) { storetest.BenchmarkClaimTransition(b, harness(false)) }
func BenchmarkBurst(b *testing.B)           { storetest.BenchmarkBurst(b, harness(false)) }
func BenchmarkCreateSecondBurst(b *testing.B) {
	b.Run("create", func(b *testing.B) { storetest.BenchmarkCreateSecondBurst(b, harness(false), false) })
	b.Run("create+claim", func(b *testing.B) { storetest.BenchmarkCreateSecondBurst(b, harness(false), true) })
	b.Run("create+claim+post", func(b *testing.B) { storetest.BenchmarkCreateSecondBurstPosts(b, harness(false)) })
}

// TestConcurrentMigrate opens one new file from several stores at once (as
// several processes would): BEGIN IMMEDIATE serialises the migrations.
func TestConcurrentMigrate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "herald.db")
	const n = 6
	errs := make(chan error, n)
	for range n {
		go func() {
			s, err := sqlite.Open(context.Background(), path, sqlite.Options{Migrate: true})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("concurrent migrate: %v", err)
		}
	}
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("open after migrating: %v", err)
	}
	defer s.Close()
}

// TestUnmigrated: without Migrate, a new database is refused as too old.
func TestUnmigrated(t *testing.T) {
	t.Parallel()
	_, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"), sqlite.Options{})
	if !errors.Is(err, store.ErrSchemaTooOld) || !strings.Contains(err.Error(), "run herald migrate") {
		t.Fatalf("open unmigrated: %v, want ErrSchemaTooOld", err)
	}
}

// oldDatabase creates a database file as the first migrations left it,
// with rows, and returns its path.
func oldDatabase(t *testing.T, version int, rows ...string) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "herald.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stmts := []string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT '')`}
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
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("set up schema %d: %v", version, err)
		}
	}
	return path
}

// upgrade checks that a database at an old schema is refused without
// migrating, and returns it migrated.
func upgrade(t *testing.T, path string) store.Store {
	t.Helper()
	ctx := context.Background()
	if _, err := sqlite.Open(ctx, path, sqlite.Options{}); !errors.Is(err, store.ErrSchemaTooOld) {
		t.Fatalf("open an old schema without migrating: %v, want ErrSchemaTooOld", err)
	}
	s, err := sqlite.Open(ctx, path, sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatalf("migrate an old schema: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestUpgradeFromSchema1 migrates a database as Herald's first schema left
// it, with a job in flight: the job keeps its attempts, starts with no
// failures, and the new tables work.
func TestUpgradeFromSchema1(t *testing.T) {
	t.Parallel()
	path := oldDatabase(t, 1, `INSERT INTO jobs (schedule_id, planned_at, due_at, status, attempt, run, trigger_kind, created_at, updated_at)
			VALUES ('s', 1, 1, 'retrying', 2, 1, 'scheduled', 1, 1)`)
	storetest.CheckUpgraded(t, upgrade(t, path))
}

// TestUpgradeFromSchema2 migrates a database at schema 2 with jobs in every
// stage: they read without a post, with what they may have sent.
func TestUpgradeFromSchema2(t *testing.T) {
	t.Parallel()
	path := oldDatabase(t, 2, storetest.Schema2Jobs(func(ids ...string) string {
		b, _ := json.Marshal(append([]string{}, ids...))
		return "'" + string(b) + "'"
	})...)
	storetest.CheckUpgradedFrom2(t, upgrade(t, path))
}

// TestUpgradeFromSchema3 migrates a database at schema 3 whose pauses and
// nodes were JSON documents of the key-value state.
func TestUpgradeFromSchema3(t *testing.T) {
	t.Parallel()
	path := oldDatabase(t, 3, storetest.Schema3Rows(func(s string) string {
		return fmt.Sprintf("X'%x'", s)
	})...)
	storetest.CheckUpgradedFrom3(t, upgrade(t, path))
}

// TestFilesAreOwnerOnly: the database holds every post and the accounts'
// tokens: its file and the -wal and -shm SQLite makes beside it are
// created 0600, and an existing file open to others is narrowed.
func TestFilesAreOwnerOnly(t *testing.T) {
	for _, existing := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "herald.db")
		if existing {
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o644); err != nil { // whatever the umask
				t.Fatal(err)
			}
		}
		s, err := sqlite.Open(context.Background(), path, sqlite.Options{Migrate: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("existing %v: %v", existing, err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("existing %v: %s has mode %v, want 0600", existing, filepath.Base(p), fi.Mode().Perm())
			}
		}
		s.Close()
	}
}
