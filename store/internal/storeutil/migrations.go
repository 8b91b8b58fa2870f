package storeutil

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"

	"github.com/herald-social/herald/store"
)

// Migration is one numbered, embedded schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// LoadMigrations reads dir of fsys: files named NNNN_name.sql, numbered from
// 1 without gaps (a gap means a lost file, which must not ship).
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		sql, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: m[2], SQL: string(sql)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations are not numbered 1..%d without gaps: found %04d at position %d", len(ms), m.Version, i+1)
		}
	}
	return ms, nil
}

// CheckVersion refuses a database newer than the binary, and one older unless
// it is about to be migrated.
func CheckVersion(v store.SchemaVersion, migrating bool) error {
	switch {
	case v.Database > v.Binary:
		return &store.SchemaError{Version: v, Err: store.ErrSchemaTooNew}
	case v.Database < v.Binary && !migrating:
		return &store.SchemaError{Version: v, Err: store.ErrSchemaTooOld}
	}
	return nil
}
