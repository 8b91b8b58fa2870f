package sqlite_test

import (
	"context"
	"errors"
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
