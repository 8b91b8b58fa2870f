package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herald-social/herald/store/sqlite"
)

// A node whose first configuration cannot be applied (here: the store
// cannot say when its schedules last fired) must not start and sit idle
// until a file changes: it exits 1 with the reason, after logging the
// failed "config reload".
func TestServeFailsWhenTheFirstApplyFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "herald.db")
	s, err := sqlite.Open(context.Background(), db, sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`DROP TABLE schedule_fires`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	writeFile(t, dir, "plan.yaml", fmt.Sprintf(e2eSchedules, "x"))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, heraldBin, "serve", "--config", filepath.Join(dir, "plan.yaml"),
		"--db", "sqlite:"+db, "--listen", "127.0.0.1:0", "--node-id", "n1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("herald serve kept running after its first apply failed:\n%s", stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit = %v, want 1:\n%s", err, stderr.String())
	}
	out := stderr.String()
	if !strings.Contains(out, "applying the first configuration") || !strings.Contains(out, "schedule_fires") {
		t.Errorf("the reason is not given:\n%s", out)
	}
	var sawReload bool
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, `"msg":"config reload"`) && strings.Contains(l, `"result":"error"`) {
			sawReload = true
		}
	}
	if !sawReload {
		t.Errorf("no failed config reload logged:\n%s", out)
	}
}

// A restarted node takes the decode of every unchanged schedules file from
// its decode cache instead of parsing it again, parses a file edited while
// it was down, and runs the same schedules either way. The accounts file
// is never cached.
func TestServeRestartUsesTheDecodeCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgDir, cacheDir := filepath.Join(dir, "plan"), filepath.Join(dir, "cache")
	writeFile(t, cfgDir, "accounts.yaml", "accounts:\n  brand: {platform: x}\n")
	for _, name := range []string{"a", "b", "c"} {
		writeFile(t, cfgDir, name+".yaml", fmt.Sprintf("schedules:\n  - {id: %s, account: brand, cron: \"0 0 1 1 *\", post: {text: %s}}\n", name, name))
	}
	args := []string{"--config", cfgDir, "--db", "sqlite:" + filepath.Join(dir, "herald.db"), "--node-id", "n1", "--dry-run", "--cache-dir", cacheDir}
	start := func(parsed, cached string) {
		t.Helper()
		n := startNode(t, args...)
		n.waitLog("schedules loaded", time.Minute, msgIs("schedules loaded", "schedules", "3", "files", "4", "parsed", parsed, "from_cache", cached))
		n.waitLog("herald started", time.Minute, msgIs("herald started"))
		if code := n.stop(syscall.SIGTERM); code != 0 {
			t.Fatalf("exit %d", code)
		}
	}
	start("4", "0")
	entries, _ := filepath.Glob(filepath.Join(cacheDir, "*.herald-decode"))
	if len(entries) != 3 {
		t.Fatalf("the cache holds %d entries, want 3 (a, b and c; never the accounts)", len(entries))
	}
	start("1", "3")
	writeFile(t, cfgDir, "b.yaml", "schedules:\n  - {id: b, account: brand, cron: \"0 0 2 1 *\", post: {text: b}}\n")
	start("2", "2")
	start("1", "3")
}

// A decode cache that cannot be opened costs time, not the start: the node
// says so and starts without it.
func TestServeStartsWithoutAnUnusableDecodeCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "plan.yaml", fmt.Sprintf(e2eSchedules, "x"))
	notADir := writeFile(t, dir, "file", "")
	n := startNode(t, "--config", filepath.Join(dir, "plan.yaml"), "--db", "sqlite:"+filepath.Join(dir, "herald.db"),
		"--node-id", "n1", "--dry-run", "--cache-dir", filepath.Join(notADir, "cache"))
	n.waitLog("the cache refused", time.Minute, msgIs("decode cache off: every start parses all schedule files"))
	n.waitLog("schedules loaded", time.Minute, msgIs("schedules loaded", "parsed", "1", "from_cache", "0"))
	n.waitLog("herald started", time.Minute, msgIs("herald started"))
	if code := n.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
