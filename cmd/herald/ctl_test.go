package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
)

// ctlEnv is the test process's environment without the variables herald
// ctl reads, so that a developer's own settings cannot leak into a test.
func ctlEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HERALD_SERVER=") && !strings.HasPrefix(kv, "HERALD_TOKEN=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// runCtlBin runs `herald ctl args...` with env on top of ctlEnv.
func runCtlBin(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return heraldEnv(t, "", ctlEnv(env...), append([]string{"ctl"}, args...)...)
}

func TestCtlUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"no command", nil, exitUsage, "ctl needs a COMMAND"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"help", []string{"--help"}, exitOK, "5 failed precondition"},
		{"command help", []string{"pause", "--help"}, exitOK, "Usage: herald ctl pause ID [--note TEXT]"},
		{"missing id", []string{"pause"}, exitUsage, "herald ctl: pause needs ID"},
		{"extra argument", []string{"status", "now"}, exitUsage, `unexpected argument "now"`},
		{"job id not a number", []string{"job", "abc"}, exitUsage, `job ID "abc": want a positive integer`},
		{"unknown flag", []string{"jobs", "--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{"bad status", []string{"jobs", "--status", "planned,lost"}, exitUsage, `--status "lost": want some of planned,running`},
		{"bad until", []string{"pause", "x", "--until", "tomorrow"}, exitUsage, `--until "tomorrow"`},
		{"bad from", []string{"jobs", "--from", "yesterday"}, exitUsage, `--from "yesterday"`},
		{"bad limit", []string{"schedules", "--limit", "-1"}, exitUsage, "--limit -1"},
		{"bad timeout", []string{"--timeout", "soon", "status"}, exitUsage, "want a positive duration"},
		{"bad server", []string{"status", "--server", "ftp://h"}, exitUsage, `--server "ftp://h"`},
		{"token in url", []string{"status", "--server", "http://u:sekrit@h"}, exitUsage, "put the token in HERALD_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCtlBin(t, nil, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.inStderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.inStderr)
			}
			if strings.Contains(r.stderr, "sekrit") {
				t.Errorf("stderr shows the password: %q", r.stderr)
			}
		})
	}
}

// TestCtlCommands runs every subcommand against the fake and checks its
// table, its exit status and its one-line errors.
func TestCtlCommands(t *testing.T) {
	t.Parallel()
	srv := startFakeAdmin(t, &fakeAdmin{reloadResult: "ok", watchEvents: 3})
	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout []string
		notIn    []string
		inStderr string
	}{
		{"status", []string{"status"}, exitOK, []string{"node         n1", "revision r-abc, commit c0ffee", "last reload  ok (start) at 2030-01-02T00:04:05Z: revision r-abc, 3 added", "not_configured",
			"jobs         about 12345, oldest planned 2029-12-31T03:04:05Z (",
			"\naccounts\nACCOUNT  AUTH    MODE        STATE                      SINCE                 DETAIL\n",
			"brand    oauth2  publishing  reauth_required            2030-01-02T02:04:05Z  account brand: refreshing the OAuth 2.0 token: xapi token: HTTP 400 Bad Request: Value passed for the token was invalid.\n",
			"demo     none    dry run     ok                         -                     -\n",
			"other    oauth2  publishing  refresh_in_progress_found  2030-01-02T01:04:05Z  the answer of X's token endpoint was lost: X may have spent the refresh token\n",
			"\n\nbrand needs re-authorization: put new tokens in the account's environment, then herald ctl reload (or restart)\n" +
				"other may need re-authorization: a token refresh began and its result was never stored; the next refresh tries the stored refresh token once, and if X refuses it, authorize the account again\n"}, nil, ""},
		{"schedules follows pages", []string{"schedules"}, exitOK,
			[]string{"ID         ACCOUNT", "daily-tip", "cron 0 9 * * 1-5", "2030-01-02T04:04:05Z (", "42 succeeded", "paused until 2030-01-02T05:04:05Z", "old-promo", "disabled"}, nil, ""},
		{"schedules paused", []string{"schedules", "--paused"}, exitOK, []string{"launch"}, []string{"daily-tip", "old-promo"}, ""},
		{"schedules filter", []string{"schedules", "--filter", "promo"}, exitOK, []string{"old-promo"}, []string{"daily-tip", "launch"}, ""},
		{"schedules account", []string{"schedules", "--account", "other"}, exitOK, []string{"old-promo"}, []string{"daily-tip"}, ""},
		{"schedules limit", []string{"schedules", "--limit", "1"}, exitOK, []string{"daily-tip"}, []string{"launch"}, "showing 1 of 3 schedules"},
		{"schedule", []string{"schedule", "daily-tip", "--next", "2"}, exitOK,
			[]string{"spec          cron 0 9 * * 1-5", "source        schedules/tips.yaml:4:7", "jitter        5m", "next fires", "2030-01-03T04:04:05Z", "latest jobs", "43  "},
			[]string{"2030-01-04T04:04:05Z"}, ""},
		{"schedule paused", []string{"schedule", "launch"}, exitOK, []string{"paused until 2030-01-02T05:04:05Z", "pause note    freeze"}, nil, ""},
		{"schedule unknown", []string{"schedule", "nope"}, exitNotFound, nil, nil, "herald ctl: not found: schedule \"nope\" is not loaded\n"},
		{"pause", []string{"pause", "launch", "--note", "launch moved", "--until", "2030-02-01T00:00:00Z"}, exitOK, []string{"launch: paused until 2030-02-01T00:00:00Z"}, nil, ""},
		{"pause without until", []string{"pause", "daily-tip"}, exitOK, []string{"daily-tip: paused\n"}, nil, ""},
		{"pause unknown", []string{"pause", "nope"}, exitNotFound, nil, nil, "not found"},
		{"resume", []string{"resume", "launch"}, exitOK, []string{"launch: active, next fire"}, nil, ""},
		{"trigger", []string{"trigger", "daily-tip"}, exitOK, []string{"daily-tip: job 100 planned, planned at 2030-01-02T03:04:05Z"}, nil, ""},
		{"jobs one page", []string{"jobs"}, exitOK, []string{"42  ", "43  "}, []string{"44  "}, "more jobs match: use --all"},
		{"jobs all", []string{"jobs", "--all"}, exitOK, []string{"42  ", "43  ", "44  ", "launch", "manual"}, nil, ""},
		{"jobs status", []string{"jobs", "--status", "dead,retrying"}, exitOK, []string{"43  ", "dead", "exhausted: x: 503 Service Unavailable"}, []string{"42  "}, ""},
		{"jobs schedule", []string{"jobs", "--schedule", "launch"}, exitOK, []string{"44  "}, []string{"43  "}, ""},
		{"jobs range", []string{"jobs", "--from", "2029-12-31T12:00:00Z", "--to", "2030-01-02T00:00:00Z"}, exitOK, []string{"43  "}, []string{"42  ", "44  "}, ""},
		{"jobs invalid page size", []string{"jobs", "--limit", "5000"}, exitUsage, nil, nil, "herald ctl: invalid argument: page_size: 5000"},
		{"job", []string{"job", "42"}, exitOK,
			[]string{"status       succeeded", "posts        1790000000000000001, 1790000000000000002", "events", "ID  AT", "new      planned", "planned  running", "posted 1790000000000000001",
				"first sent   2029-12-31T03:04:08Z", "account      brand", "post 1/2     Tip 7: pin your versions. Read more below.\n", "post 2/2     Why: reproducible builds.\n",
				`media 1      media/tip7.png (alt "a pinned version"), sha256:9f86d081884c7d65, 20480 bytes, media id 1790000000000000100 until 2030-01-01T03:04:05Z`,
				"media 2      media/extra.png, not uploaded yet"}, nil, ""},
		{"job not frozen", []string{"job", "43"}, exitOK, []string{"first sent   -", "post         - (not frozen yet)"}, nil, ""},
		{"job unknown", []string{"job", "7"}, exitNotFound, nil, nil, "herald ctl: not found: job 7 not found\n"},
		{"cancel illegal", []string{"cancel", "42"}, exitPrecondition, nil, nil,
			"herald ctl: failed precondition: job 42 is succeeded: cannot go from succeeded to cancelled\n"},
		{"cancel", []string{"cancel", "43", "--note", "obsolete"}, exitOK, []string{"job 43 (daily-tip): cancelled"}, nil, ""},
		{"retry", []string{"retry", "43"}, exitOK, []string{"job 43 (daily-tip): planned"}, nil, ""},
		{"retry illegal", []string{"retry", "44"}, exitPrecondition, nil, nil, "cannot go from planned to planned"},
		{"dead", []string{"dead"}, exitOK, []string{"REASON", "43  ", "exhausted", "2030-01-01T04:04:05Z"}, []string{"42  "}, ""},
		{"dead other schedule", []string{"dead", "--schedule", "launch"}, exitOK, []string{"REASON"}, []string{"43  "}, ""},
		{"reload", []string{"reload"}, exitOK, []string{"ok (api) at 2030-01-02T03:04:05Z: revision r-def, 1 added, 0 removed, 2 changed"}, nil, ""},
		{"watch until the server ends", []string{"watch"}, exitOK,
			[]string{"2030-01-02T03:20:46Z  #1001  job 42  daily-tip  running -> succeeded  attempt 1  node n1  posts 1790000000000000001", "#1002", "#1003"},
			nil, "the server ended the stream after event 1003; resume with --after 1003"},
		{"watch after", []string{"watch", "--after", "1002"}, exitOK, []string{"#1003"}, []string{"#1001", "#1002"}, "resume with --after 1003"},
		{"watch unknown schedule", []string{"watch", "--schedule", "nope"}, exitNotFound, nil, nil, "not found: schedule \"nope\""},
		{"flags before the command", []string{"--timeout", "30s", "status"}, exitOK, []string{"n1"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCtlBin(t, []string{"HERALD_TOKEN=" + fakeAdminToken}, append(tt.args, "--server", srv.URL)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, s := range tt.inStdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout does not contain %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tt.notIn {
				if strings.Contains(r.stdout, s) {
					t.Errorf("stdout contains %q:\n%s", s, r.stdout)
				}
			}
			if tt.inStderr == "" && r.stderr != "" {
				t.Errorf("unexpected stderr %q", r.stderr)
			}
			if !strings.Contains(r.stderr, tt.inStderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.inStderr)
			}
			if tt.code != exitOK && strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("want one error line, got %q", r.stderr)
			}
		})
	}
}

// TestCtlJSON checks that --json prints the response's proto3 JSON, which
// parses back into the response message.
func TestCtlJSON(t *testing.T) {
	t.Parallel()
	srv := startFakeAdmin(t, &fakeAdmin{reloadResult: "error"})
	tests := []struct {
		name  string
		args  []string
		code  int
		into  proto.Message
		check func(t *testing.T, m proto.Message)
	}{
		{"status", []string{"status"}, exitOK, &adminv1.GetStatusResponse{}, func(t *testing.T, m proto.Message) {
			if s := m.(*adminv1.GetStatusResponse); s.NodeId != "n1" || s.GetRedis().GetState() != "not_configured" {
				t.Errorf("status = %v", s)
			}
		}},
		{"schedules merges pages", []string{"schedules"}, exitOK, &adminv1.ListSchedulesResponse{}, func(t *testing.T, m proto.Message) {
			if s := m.(*adminv1.ListSchedulesResponse); len(s.Schedules) != 3 || s.TotalSize != 3 || s.NextPageToken != "" {
				t.Errorf("schedules = %v", s)
			}
		}},
		{"schedule", []string{"schedule", "daily-tip", "--next", "3"}, exitOK, &adminv1.GetScheduleResponse{}, func(t *testing.T, m proto.Message) {
			if s := m.(*adminv1.GetScheduleResponse); s.GetSchedule().GetId() != "daily-tip" || len(s.NextFires) != 3 {
				t.Errorf("schedule = %v", s)
			}
		}},
		{"jobs one page", []string{"jobs"}, exitOK, &adminv1.ListJobsResponse{}, func(t *testing.T, m proto.Message) {
			if j := m.(*adminv1.ListJobsResponse); len(j.Jobs) != 2 || j.NextPageToken == "" {
				t.Errorf("jobs = %v", j)
			}
		}},
		{"jobs all", []string{"jobs", "--all"}, exitOK, &adminv1.ListJobsResponse{}, func(t *testing.T, m proto.Message) {
			if j := m.(*adminv1.ListJobsResponse); len(j.Jobs) != 3 || j.NextPageToken != "" {
				t.Errorf("jobs = %v", j)
			}
		}},
		{"job", []string{"job", "42"}, exitOK, &adminv1.GetJobResponse{}, func(t *testing.T, m proto.Message) {
			if j := m.(*adminv1.GetJobResponse); j.GetJob().GetId() != 42 || len(j.Events) != 3 {
				t.Errorf("job = %v", j)
			}
		}},
		{"retry", []string{"retry", "43"}, exitOK, &adminv1.RetryJobResponse{}, func(t *testing.T, m proto.Message) {
			if j := m.(*adminv1.RetryJobResponse); j.GetJob().GetStatus() != adminv1.JobStatus_JOB_STATUS_PLANNED {
				t.Errorf("retry = %v", j)
			}
		}},
		{"dead", []string{"dead"}, exitOK, &adminv1.ListDeadLettersResponse{}, func(t *testing.T, m proto.Message) {
			if j := m.(*adminv1.ListDeadLettersResponse); len(j.Jobs) != 1 || j.Jobs[0].DeadReason != "exhausted" {
				t.Errorf("dead = %v", j)
			}
		}},
		{"rejected reload prints its result and exits 1", []string{"reload"}, exitCheck, &adminv1.ReloadResponse{}, func(t *testing.T, m proto.Message) {
			if r := m.(*adminv1.ReloadResponse).GetResult(); r.GetResult() != "error" || len(r.GetErrors()) != 1 {
				t.Errorf("reload = %v", r)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCtlBin(t, []string{"HERALD_TOKEN=" + fakeAdminToken}, append(tt.args, "--json", "--server", srv.URL)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			if err := protojson.Unmarshal([]byte(r.stdout), tt.into); err != nil {
				t.Fatalf("stdout is not the response's JSON: %v\n%s", err, r.stdout)
			}
			tt.check(t, tt.into)
		})
	}
}

func TestCtlJSONFieldNames(t *testing.T) {
	t.Parallel()
	srv := startFakeAdmin(t, &fakeAdmin{})
	r := runCtlBin(t, []string{"HERALD_TOKEN=" + fakeReadToken}, "job", "42", "--json", "--server", srv.URL)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// The proto3 JSON mapping that scripts read: lowerCamelCase, int64 as
	// strings, enums by name.
	for _, want := range []string{`"scheduleId"`, `"42"`, `"JOB_STATUS_SUCCEEDED"`, `"postIds"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %s:\n%s", want, r.stdout)
		}
	}
}

func TestCtlPauseUntilDuration(t *testing.T) {
	t.Parallel()
	srv := startFakeAdmin(t, &fakeAdmin{})
	before := time.Now()
	r := runCtlBin(t, []string{"HERALD_TOKEN=" + fakeAdminToken}, "pause", "launch", "--until", "2h", "--json", "--server", srv.URL)
	after := time.Now()
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var resp adminv1.PauseScheduleResponse
	if err := protojson.Unmarshal([]byte(r.stdout), &resp); err != nil {
		t.Fatal(err)
	}
	until := resp.GetSchedule().GetPause().GetUntil().AsTime()
	if until.Before(before.Add(2*time.Hour).Truncate(time.Second)) || until.After(after.Add(2*time.Hour)) {
		t.Errorf("until = %v, want two hours after the call (between %v and %v)", until, before, after)
	}
}

func TestCtlWatchJSONLines(t *testing.T) {
	t.Parallel()
	srv := startFakeAdmin(t, &fakeAdmin{watchEvents: 4})
	r := runCtlBin(t, []string{"HERALD_TOKEN=" + fakeReadToken}, "watch", "--json", "--server", srv.URL)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("want 4 lines, got %d:\n%s", len(lines), r.stdout)
	}
	for i, l := range lines {
		var ev adminv1.WatchJobEventsResponse
		if err := protojson.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %d is not a JSON event: %v\n%s", i, err, l)
		}
		if got, want := ev.GetEvent().GetId(), int64(1001+i); got != want {
			t.Errorf("line %d: event %d, want %d", i, got, want)
		}
	}
}

// TestCtlWatchInterrupt shows that Ctrl-C ends a watch with success.
func TestCtlWatchInterrupt(t *testing.T) {
	t.Parallel()
	srv := startFakeAdmin(t, &fakeAdmin{watchEvents: 1, watchBlock: true})
	cmd := exec.Command(heraldBin, "ctl", "watch", "--server", srv.URL)
	cmd.Env = ctlEnv("HERALD_TOKEN=" + fakeAdminToken)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the first event: %v (stderr %q)", err, errb.String())
	}
	if !strings.Contains(line, "#1001") {
		t.Fatalf("first line %q, want event #1001", line)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch after SIGINT: %v, want exit 0 (stderr %q)", err, errb.String())
	}
}

// TestCtlAuth shows the token's sources and their precedence, the exit
// status 3, and that no token is ever printed.
func TestCtlAuth(t *testing.T) {
	t.Parallel()
	srv := startFakeAdmin(t, &fakeAdmin{reloadResult: "ok"})
	const wrong = "t-wrong-but-secret"
	tests := []struct {
		name     string
		env      []string
		args     []string
		code     int
		inStderr string
	}{
		{"no token", nil, []string{"status"}, exitAuth, "herald ctl: unauthenticated: missing bearer token (set HERALD_TOKEN or --token)"},
		{"read token from the environment", []string{"HERALD_TOKEN=" + fakeReadToken}, []string{"status"}, exitOK, ""},
		{"token flag", nil, []string{"status", "--token", fakeReadToken}, exitOK, ""},
		{"flag wins over the environment", []string{"HERALD_TOKEN=" + wrong}, []string{"reload", "--token", fakeAdminToken}, exitOK, ""},
		{"wrong token", []string{"HERALD_TOKEN=" + wrong}, []string{"schedules"}, exitAuth, "herald ctl: unauthenticated: unknown bearer token \"REDACTED\""},
		{"wrong token on a stream", []string{"HERALD_TOKEN=" + wrong}, []string{"watch"}, exitAuth, "unauthenticated"},
		{"read token on pause", []string{"HERALD_TOKEN=" + fakeReadToken}, []string{"pause", "daily-tip"}, exitAuth, "herald ctl: permission denied: a read token may not call PauseSchedule"},
		{"read token on reload", []string{"HERALD_TOKEN=" + fakeReadToken}, []string{"reload"}, exitAuth, "permission denied"},
		{"read token on cancel", []string{"HERALD_TOKEN=" + fakeReadToken}, []string{"cancel", "43"}, exitAuth, "permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCtlBin(t, tt.env, append(tt.args, "--server", srv.URL)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.inStderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.inStderr)
			}
			for _, tok := range []string{wrong, fakeReadToken, fakeAdminToken} {
				if strings.Contains(r.stdout+r.stderr, tok) {
					t.Errorf("output shows the token %q:\n%s%s", tok, r.stdout, r.stderr)
				}
			}
		})
	}
}

func TestCtlServerFromEnvironment(t *testing.T) {
	t.Parallel()
	srv := startFakeAdmin(t, &fakeAdmin{})
	for _, server := range []string{srv.URL, strings.TrimPrefix(srv.URL, "http://"), srv.URL + "/"} {
		r := runCtlBin(t, []string{"HERALD_TOKEN=" + fakeReadToken, "HERALD_SERVER=" + server}, "status")
		if r.code != exitOK || !strings.Contains(r.stdout, "n1") {
			t.Errorf("HERALD_SERVER=%s: exit %d, stdout %q, stderr %q", server, r.code, r.stdout, r.stderr)
		}
	}
}

func TestCtlUnavailable(t *testing.T) {
	t.Parallel()
	srv := startFakeAdmin(t, &fakeAdmin{})
	url := srv.URL
	srv.Close() // nothing listens there any more
	r := runCtlBin(t, []string{"HERALD_TOKEN=" + fakeAdminToken}, "status", "--server", url)
	if r.code != exitCheck || !strings.HasPrefix(r.stderr, "herald ctl: unavailable: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want 1 and one unavailable line", r.code, r.stderr)
	}
}

func TestCtlNotHerald(t *testing.T) {
	t.Parallel()
	srv := startNotHerald(t)
	r := runCtlBin(t, nil, "status", "--server", srv)
	if r.code != exitCheck || !strings.Contains(r.stderr, "a Herald node?") {
		t.Errorf("exit %d, stderr %q; want 1 and a hint about --server", r.code, r.stderr)
	}
}

func TestShortDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{500 * time.Millisecond, "500ms"},
		{45 * time.Second, "45s"},
		{5 * time.Minute, "5m"},
		{5*time.Minute + 30*time.Second, "5m30s"},
		{2 * time.Hour, "2h"},
		{90 * time.Minute, "1h30m"},
		{47 * time.Hour, "47h"},
		{3*24*time.Hour + 4*time.Hour + 10*time.Minute, "3d4h"},
		{7 * 24 * time.Hour, "7d"},
	}
	for _, tt := range tests {
		if got := shortDuration(tt.d); got != tt.want {
			t.Errorf("shortDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	if got := relative(-3 * time.Hour); got != "3h ago" {
		t.Errorf("relative(-3h) = %q", got)
	}
	if got := relative(5 * time.Minute); got != "in 5m" {
		t.Errorf("relative(5m) = %q", got)
	}
}

func TestCtlReloadRejected(t *testing.T) {
	t.Parallel()
	srv := startFakeAdmin(t, &fakeAdmin{reloadResult: "error"})
	r := runCtlBin(t, []string{"HERALD_TOKEN=" + fakeAdminToken}, "reload", "--server", srv.URL)
	if r.code != exitCheck {
		t.Fatalf("exit %d, want %d\n%s%s", r.code, exitCheck, r.stdout, r.stderr)
	}
	wantOut := "error (api) at 2030-01-02T03:04:05Z: revision r-abc, 0 added, 0 removed, 0 changed, 1 error\n" +
		"schedules/tips.yaml:6:11: cron: field \"hour\": 25 out of range 0-23\n"
	if r.stdout != wantOut {
		t.Errorf("stdout\n%q\nwant\n%q", r.stdout, wantOut)
	}
	if want := "herald ctl: reload rejected (error): 1 error; revision r-abc keeps running\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
}
