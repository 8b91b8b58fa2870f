package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
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
