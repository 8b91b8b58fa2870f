package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/herald-social/herald/engine"
	"github.com/herald-social/herald/platform/x"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/open"
)

const rotateHelp = `Re-encrypts the stored OAuth 2.0 tokens of X accounts (those that
refresh) from the current token key to a new one. The current key comes
from HERALD_TOKEN_KEY (or --old-key-file), the new one from
HERALD_NEW_TOKEN_KEY (or --new-key-file); keys are never given as flag
values. The accounts are those of the schedules (--config) and those named
as arguments (an account removed from the schedules keeps its entry).

Each entry is read, opened with the current key, sealed with the new one
and written back only if no node wrote it meanwhile (then it is read
again). An entry the new key opens already is skipped, so the command can
be run again. Running nodes keep working only if they have the new key
and the current one as HERALD_TOKEN_KEY_PREVIOUS: see docs/OPERATIONS.md.

Exit status: 0 every entry is under the new key, 1 an entry failed, 2 wrong usage.`

// rotateMaxConflicts bounds the rereads of one entry that nodes keep
// writing (a refresh takes seconds; this many in a row means something
// else is wrong).
const rotateMaxConflicts = 10

func runRotateTokenKey(env *cliEnv, args []string) int {
	fs := newFlagSet("rotate-token-key", "[--db URL] [--config PATHS] [ACCOUNT...]", rotateHelp, env.stderr)
	db := fs.String("db", engine.DefaultDB, "store: postgres://USER@HOST/DB or sqlite:PATH (HERALD_DB)")
	configPaths := fs.String("config", "", "schedules file or folder whose accounts are rotated; several separated by commas (HERALD_CONFIG)")
	oldFile := fs.String("old-key-file", "", "file holding the current key, instead of HERALD_TOKEN_KEY")
	newFile := fs.String("new-key-file", "", "file holding the new key, instead of HERALD_NEW_TOKEN_KEY")
	if err := applyEnv(fs, env.getenv, []envFlag{{"db", "HERALD_DB"}, {"config", "HERALD_CONFIG"}}); err != nil {
		return usageError(fs, "%v", err)
	}
	accounts, err := parseArgs(fs, args)
	if err != nil {
		return parseStatus(err)
	}
	oldKey, err := readTokenKey(env, *oldFile, "--old-key-file", x.TokenKeyEnv)
	if err != nil {
		return usageError(fs, "the current key: %v", err)
	}
	newKey, err := readTokenKey(env, *newFile, "--new-key-file", "HERALD_NEW_TOKEN_KEY")
	if err != nil {
		return usageError(fs, "the new key: %v", err)
	}
	if string(oldKey) == string(newKey) {
		return usageError(fs, "the current and the new key are the same")
	}
	if paths := splitList(*configPaths); len(paths) > 0 {
		cfg, err := schedules.Load(schedules.LoadOptions{}, paths...)
		if err != nil {
			fmt.Fprintf(env.stderr, "herald rotate-token-key: %v\n", err)
			return exitCheck
		}
		for name, a := range cfg.Accounts {
			if a.OAuth2 != nil {
				accounts = append(accounts, name)
			}
		}
	}
	slices.Sort(accounts)
	accounts = slices.Compact(accounts)
	if len(accounts) == 0 {
		return usageError(fs, "no accounts: give the schedules with --config, or name the accounts")
	}
	ctx := context.Background()
	st, err := open.Open(ctx, *db, open.Options{})
	if err != nil {
		fmt.Fprintf(env.stderr, "herald rotate-token-key: %s: %v\n", open.Redact(*db), err)
		return exitCheck
	}
	defer st.Close()
	return rotateAll(ctx, env, st, accounts, oldKey, newKey)
}

// rotateAll re-encrypts each account's entry and prints one line per
// account and a summary.
func rotateAll(ctx context.Context, env *cliEnv, st store.Store, accounts []string, oldKey, newKey []byte) int {
	var counts [outcomeCount]int
	for _, account := range accounts {
		o, err := rotateAccount(ctx, st, account, oldKey, newKey, env.now)
		counts[o]++
		if err != nil {
			fmt.Fprintf(env.stderr, "herald rotate-token-key: account %s: %v\n", account, err)
			continue
		}
		fmt.Fprintf(env.stdout, "%s: %s\n", account, o)
	}
	fmt.Fprintf(env.stdout, "%d re-encrypted, %d already under the new key, %d without stored tokens, %d failed\n",
		counts[rotated], counts[alreadyRotated], counts[notStored], counts[rotateFailed])
	if counts[rotateFailed] > 0 {
		return exitCheck
	}
	return exitOK
}

// rotateOutcome is what became of one account's entry.
type rotateOutcome int

const (
	rotated rotateOutcome = iota
	alreadyRotated
	notStored
	rotateFailed
	outcomeCount
)

func (o rotateOutcome) String() string {
	return [...]string{"re-encrypted", "already under the new key", "no stored tokens (never refreshed): nothing to do", "failed"}[o]
}

// rotateAccount re-encrypts one entry with a compare-and-swap on the
// version read, reading again when a node wrote meanwhile.
func rotateAccount(ctx context.Context, st store.Store, account string, oldKey, newKey []byte, now func() time.Time) (rotateOutcome, error) {
	key := engine.TokenStateKey(account)
	for conflicts := 0; ; conflicts++ {
		cur, err := st.GetState(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return notStored, nil
		}
		if err != nil {
			return rotateFailed, fmt.Errorf("reading the stored tokens: %w", err)
		}
		sealed, err := x.Rekey(account, cur.Value, oldKey, newKey, now())
		switch {
		case errors.Is(err, x.ErrAlreadyRekeyed):
			return alreadyRotated, nil
		case errors.Is(err, x.ErrWrongOldKey):
			return rotateFailed, fmt.Errorf("the stored tokens open with neither the current key nor the new one (is the current key the one the nodes use?); the entry is left as it is")
		case err != nil:
			return rotateFailed, err
		}
		_, err = st.PutState(ctx, store.PutStateParams{Key: key, Value: sealed, Version: cur.Version, Now: now()})
		if errors.Is(err, store.ErrConflict) && conflicts < rotateMaxConflicts {
			continue // a node refreshed meanwhile: rotate what it wrote
		}
		if err != nil {
			return rotateFailed, fmt.Errorf("writing the re-encrypted tokens: %w", err)
		}
		return rotated, nil
	}
}

// readTokenKey reads a key from a file when one is named, else from the
// environment variable. Errors name the source, never the value.
func readTokenKey(env *cliEnv, file, flagName, envName string) ([]byte, error) {
	src, v := envName, env.getenv(envName)
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flagName, err)
		}
		src, v = flagName+" "+file, strings.TrimRight(string(b), "\r\n")
	}
	if v == "" {
		return nil, fmt.Errorf("%s is not set", src)
	}
	k, err := x.ParseTokenKeyOf(src, v)
	if err != nil {
		return nil, err
	}
	return k, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
