package main

import (
	"context"
	"fmt"

	"github.com/herald-social/herald/engine"
	"github.com/herald-social/herald/store/open"
)

const migrateHelp = `Applies the store's embedded migrations that the database lacks, and
prints the schema version. 'herald serve' does the same at start; run this
first when several nodes share one Postgres. A database whose schema is
newer than this binary is refused.`

func runMigrate(env *cliEnv, args []string) int {
	fs := newFlagSet("migrate", "[--db URL]", migrateHelp, env.stderr)
	db := fs.String("db", engine.DefaultDB, "store: postgres://USER@HOST/DB or sqlite:PATH (HERALD_DB)")
	if err := applyEnv(fs, env.getenv, []envFlag{{"db", "HERALD_DB"}}); err != nil {
		return usageError(fs, "%v", err)
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return parseStatus(err)
	}
	if len(rest) > 0 {
		return usageError(fs, "migrate takes no arguments, got %q", rest)
	}
	ctx := context.Background()
	s, err := open.Open(ctx, *db, open.Options{Migrate: true})
	if err != nil {
		fmt.Fprintf(env.stderr, "herald migrate: %s: %v\n", open.Redact(*db), err)
		return exitCheck
	}
	defer s.Close()
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		fmt.Fprintf(env.stderr, "herald migrate: %v\n", err)
		return exitCheck
	}
	fmt.Fprintf(env.stdout, "schema version %d (this Herald knows up to %d)\n", v.Database, v.Binary)
	return exitOK
}
