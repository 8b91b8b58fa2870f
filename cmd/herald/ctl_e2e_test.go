package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
)

const (
	ctlE2EAdmin = "ctl-admin-token-0123456789"
	ctlE2ERead  = "ctl-read-token-0123456789"
)

const ctlE2EPlan = `accounts:
  brand: {platform: x}
schedules:
  - id: tick
    account: brand
    cron: "* * * * * *"
    post: {text: "tick {{ .Run }}"}
  - id: hourly
    account: brand
    cron: "0 * * * *"
    post: {text: "hourly {{ .Run }}"}
`

// TestCtlEndToEnd runs herald ctl against a real herald serve: the
// commands an operator uses, the exit statuses 3, 4 and 5, and watch on the
// real event stream.
func TestCtlEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "plan.yaml", ctlE2EPlan)
	n := startNodeEnv(t, []string{"HERALD_ADMIN_TOKENS=admin:" + ctlE2EAdmin + "\nread:" + ctlE2ERead},
		"--config", filepath.Join(dir, "plan.yaml"), "--db", "sqlite:"+filepath.Join(dir, "h.db"), "--node-id", "ctl-e2e")
	started := n.waitLog("start", 30*time.Second, msgIs("herald started"))
	// The listen address as logged, HOST:PORT without a scheme, as an
	// operator would paste it.
	server := "HERALD_SERVER=" + started["listen"].(string)
	admin := []string{server, "HERALD_TOKEN=" + ctlE2EAdmin}
	read := []string{server, "HERALD_TOKEN=" + ctlE2ERead}

	run := func(env []string, code int, args ...string) result {
		t.Helper()
		r := runCtlBin(t, env, args...)
		if r.code != code {
			t.Fatalf("herald ctl %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
		}
		return r
	}
	contains := func(r result, args string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(r.stdout+r.stderr, w) {
				t.Errorf("herald ctl %s: output lacks %q:\n%s%s", args, w, r.stdout, r.stderr)
			}
		}
	}

	contains(run(read, exitOK, "status"), "status", "node         ctl-e2e", "schedules    2", "store        ok")
	contains(run(read, exitOK, "schedules"), "schedules", "hourly", "cron 0 * * * *", "tick", "active")
	contains(run(admin, exitOK, "pause", "hourly", "--note", "e2e", "--until", "1h"), "pause", "hourly: paused until ")
	contains(run(read, exitOK, "schedule", "hourly"), "schedule hourly", "state         paused until ", "e2e")
	contains(run(read, exitOK, "schedules", "--paused"), "schedules --paused", "hourly")
	contains(run(admin, exitOK, "resume", "hourly"), "resume", "hourly: active")
	contains(run(read, exitOK, "schedule", "hourly"), "schedule hourly", "state         active")

	r := run(admin, exitOK, "trigger", "hourly", "--json")
	var trig adminv1.TriggerScheduleResponse
	if err := protojson.Unmarshal([]byte(r.stdout), &trig); err != nil || trig.GetJob().GetId() == 0 || trig.GetJob().GetTrigger() != "manual" {
		t.Fatalf("trigger --json: %v\n%s", err, r.stdout)
	}
	id := strconv.FormatInt(trig.GetJob().GetId(), 10)
	r = run(read, exitOK, "jobs", "--schedule", "hourly", "--json")
	var jobs adminv1.ListJobsResponse
	if err := protojson.Unmarshal([]byte(r.stdout), &jobs); err != nil || len(jobs.Jobs) != 1 || jobs.Jobs[0].GetId() != trig.GetJob().GetId() {
		t.Errorf("jobs --schedule hourly: %v\n%s", err, r.stdout)
	}
	contains(run(read, exitOK, "jobs", "--schedule", "hourly"), "jobs", id+"  ", "manual")
	contains(run(read, exitOK, "job", id), "job "+id, "schedule     hourly", "trigger      manual", "events")

	contains(run(read, exitAuth, "pause", "hourly"), "pause with a read token", "herald ctl: permission denied")
	contains(run([]string{server}, exitAuth, "status"), "status without a token", "unauthenticated")
	contains(run(read, exitNotFound, "schedule", "nope"), "schedule nope", "herald ctl: not found")
	contains(run(read, exitNotFound, "job", "999999"), "job 999999", "herald ctl: not found")
	contains(run(admin, exitUsage, "jobs", "--limit", "5000"), "jobs --limit 5000", "herald ctl: invalid argument: page_size")

	// A succeeded job, seen on the real stream, cannot be cancelled.
	done := ctlWatchUntilSucceeded(t, admin)
	r = run(admin, exitPrecondition, "cancel", strconv.FormatInt(done, 10))
	contains(r, "cancel", "herald ctl: failed precondition: ", "succeeded")

	contains(run(admin, exitOK, "reload"), "reload", "ok (api)")
}

// ctlWatchUntilSucceeded runs `herald ctl watch --json` on the tick
// schedule until a job succeeds, ends it with SIGINT (which must exit 0),
// and returns that job's id.
func ctlWatchUntilSucceeded(t *testing.T, env []string) int64 {
	t.Helper()
	cmd := exec.Command(heraldBin, "ctl", "watch", "--schedule", "tick", "--json")
	cmd.Env = ctlEnv(env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A bound, not an assertion: a watch that sees nothing must not hang
	// the test run.
	guard := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() })
	defer guard.Stop()
	sc := bufio.NewScanner(stdout)
	var job int64
	for job == 0 && sc.Scan() {
		var ev adminv1.WatchJobEventsResponse
		if err := protojson.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("watch line is not JSON: %v\n%s", err, sc.Text())
		}
		if ev.GetEvent().GetTo() == adminv1.JobStatus_JOB_STATUS_SUCCEEDED {
			job = ev.GetEvent().GetJobId()
		}
	}
	if job == 0 {
		_ = cmd.Wait()
		t.Fatalf("watch ended without a succeeded job (stderr %q)", errb.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch after SIGINT: %v, want exit 0 (stderr %q)", err, errb.String())
	}
	return job
}
