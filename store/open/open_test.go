package open_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/open"
	"github.com/herald-social/herald/store/postgres/pgtest"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url    string
		driver open.Driver
		dsn    string
		err    error
	}{
		{"postgres://u@h:5432/db?sslmode=disable", open.Postgres, "postgres://u@h:5432/db?sslmode=disable", nil},
		{"postgresql://h/db", open.Postgres, "postgresql://h/db", nil},
		{"sqlite:herald.db", open.SQLite, "herald.db", nil},
		{"sqlite:./data/herald.db", open.SQLite, "./data/herald.db", nil},
		{"sqlite:///var/lib/herald.db", open.SQLite, "/var/lib/herald.db", nil},
		{"sqlite::memory:", open.SQLite, ":memory:", nil},
		{open.DefaultURL, open.SQLite, "herald.db", nil},
		{"sqlite:", "", "", store.ErrUnsupportedURL},
		{"mysql://u:secret@h/db", "", "", store.ErrUnsupportedURL},
		{"herald.db", "", "", store.ErrUnsupportedURL},
		{"", "", "", store.ErrUnsupportedURL},
	}
	for _, c := range cases {
		driver, dsn, err := open.Parse(c.url)
		if driver != c.driver || dsn != c.dsn || !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("Parse(%q) = %q, %q, %v; want %q, %q, %v", c.url, driver, dsn, err, c.driver, c.dsn, c.err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("Parse(%q) error leaks the password: %v", c.url, err)
		}
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	urls := map[string]func(t *testing.T) string{
		"memory": func(t *testing.T) string { return "sqlite::memory:" },
		"file":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "herald.db") },
		"postgres": func(t *testing.T) string {
			schema := pgtest.Config(t).ConnConfig.RuntimeParams["search_path"]
			sep := "?"
			if strings.Contains(pgtest.URL(), "?") {
				sep = "&"
			}
			return pgtest.URL() + sep + "search_path=" + schema
		},
	}
	for name, mkURL := range urls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url, ctx := mkURL(t), context.Background()
			if _, err := open.Open(ctx, url, open.Options{}); !errors.Is(err, store.ErrSchemaTooOld) {
				t.Errorf("Open without migrating: %v, want ErrSchemaTooOld", err)
			}
			s, err := open.Open(ctx, url, open.Options{Migrate: true})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if v, err := s.SchemaVersion(ctx); err != nil || v.Database != v.Binary || v.Binary == 0 {
				t.Errorf("SchemaVersion = %+v, %v", v, err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}
