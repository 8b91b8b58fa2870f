package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// heraldBin is the herald binary built once for these tests: the CLI is
// tested through the real entry point, as users run it.
var heraldBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "herald-cli-test")
	if err != nil {
		panic(err)
	}
	heraldBin = filepath.Join(dir, "herald")
	// Every serve the tests start keeps its decode cache in here, not in
	// the user's cache folder (a test that looks at the cache sets its own).
	if err := os.Setenv("HERALD_CACHE_DIR", filepath.Join(dir, "cache")); err != nil {
		panic(err)
	}
	build := exec.Command("go", "build", "-o", heraldBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building herald: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// herald runs the binary with args in dir (the repository root when empty).
func herald(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return heraldEnv(t, dir, nil, args...)
}

// heraldEnv runs the binary with args in dir and env as its whole
// environment (nil: the test's own).
func heraldEnv(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(heraldBin, args...)
	cmd.Dir = dir
	if dir == "" {
		cmd.Dir = "../.."
	}
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running herald %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUsageAndExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
		inStdout string
	}{
		{"no command", nil, exitUsage, "Usage: herald COMMAND", ""},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`, ""},
		{"help", []string{"--help"}, exitOK, "", "Commands:"},
		{"validate help", []string{"validate", "--help"}, exitOK, "Usage: herald validate", ""},
		{"next help", []string{"next", "--help"}, exitOK, "herald next --rrule RULE --start LOCAL", ""},
		{"validate no path", []string{"validate"}, exitUsage, "at least one PATH", ""},
		{"validate bad format", []string{"validate", "--format", "xml", "x.yaml"}, exitUsage, "--format must be text or json", ""},
		{"validate unknown flag", []string{"validate", "--bogus", "x.yaml"}, exitUsage, "flag provided but not defined: -bogus", ""},
		{"next nothing", []string{"next"}, exitUsage, "next needs PATH --schedule ID", ""},
		{"next two specs", []string{"next", "--cron", "* * * * *", "--at", "2030-01-01T00:00:00Z"}, exitUsage, "exactly one of", ""},
		{"next rrule without start", []string{"next", "--rrule", "FREQ=DAILY"}, exitUsage, "--rrule needs --start", ""},
		{"next bad zone", []string{"next", "--cron", "* * * * *", "--timezone", "Mars/Olympus"}, exitUsage, "not an IANA time zone", ""},
		{"next bad from", []string{"next", "--cron", "* * * * *", "--from", "tomorrow"}, exitUsage, "not an RFC 3339 instant", ""},
		{"next bad n", []string{"next", "--cron", "* * * * *", "-n", "0"}, exitUsage, "-n must be between", ""},
		{"next path without schedule", []string{"next", "schedules.example.yaml"}, exitUsage, "--schedule ID", ""},
		{"next bad cron", []string{"next", "--cron", "61 * * * *"}, exitCheck, "--cron", ""},
		{"version", []string{"version"}, exitOK, "", "herald "},
		{"serve help", []string{"serve", "--help"}, exitOK, "HERALD_CONFIG", ""},
		{"serve without config", []string{"serve", "--listen", "127.0.0.1:0"}, exitUsage, "--config: at least one", ""},
		{"serve bad db", []string{"serve", "--config", "x", "--db", "mysql://u:secret@h/db"}, exitUsage, "mysql://REDACTED@h/db", ""},
		{"serve bad publishers", []string{"serve", "--config", "x", "--publishers", "0"}, exitUsage, "--publishers 0", ""},
		{"serve bad log format", []string{"serve", "--config", "x", "--log-format", "xml"}, exitUsage, "--log-format", ""},
		{"serve bad retain", []string{"serve", "--config", "x", "--retain", "ninety"}, exitUsage, `invalid value "ninety" for flag -retain: "ninety": want a number of days such as 90d`, ""},
		{"serve retain too short", []string{"serve", "--config", "x", "--retain", "10m"}, exitUsage, "--retain 10m0s: want at least 1h0m0s, or off", ""},
		{"serve retain dead shorter", []string{"serve", "--config", "x", "--retain", "30d", "--retain-dead", "7d"}, exitUsage, "--retain-dead 168h0m0s: want at least --retain (720h0m0s)", ""},
		{"serve help retain", []string{"serve", "--help"}, exitOK, "(default 90d)", ""},
		{"serve stray argument", []string{"serve", "schedules/"}, exitUsage, "serve takes no arguments", ""},
		{"migrate bad db", []string{"migrate", "--db", "nope"}, exitCheck, "want postgres://", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := herald(t, "", tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.inStderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.inStderr)
			}
			if !strings.Contains(r.stdout, tt.inStdout) {
				t.Errorf("stdout %q does not contain %q", r.stdout, tt.inStdout)
			}
		})
	}
}

func TestValidateExample(t *testing.T) {
	t.Parallel()
	r := herald(t, "", "validate", "schedules.example.yaml")
	if r.code != exitOK {
		t.Fatalf("example is invalid (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "ok: ") {
		t.Errorf("stdout = %q, want an ok: summary", r.stdout)
	}
}

// The example must show every kind of schedule.
func TestExampleShowsEveryKind(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../schedules.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"cron:", "rrule:", "at:", "jitter:", "catchup:", "enabled: false", "start:", "end:", "media:", "thread:", "metrics:", "@weekly", "timezone:"} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("schedules.example.yaml shows no %q", key)
		}
	}
}

func TestValidateReportsEveryErrorWithPositions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", `accounts:
  brand: {platform: x}
schedules:
  - id: one
    account: brand
    cron: "0 25 * * *"
    post: {text: hi}
  - id: two
    account: nobody
    cron: "0 9 * * *"
    post: {text: hi}
`)
	writeFile(t, dir, "sub/b.yml", `schedules:
  - id: one
    account: brand
    at: 2030-01-01T00:00:00Z
    timezone: Mars/Olympus
    post: {text: hi}
`)
	r := herald(t, dir, "validate", ".")
	if r.code != exitCheck {
		t.Fatalf("exit %d, want %d\n%s%s", r.code, exitCheck, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 4 {
		t.Fatalf("want at least 4 errors, got:\n%s", r.stdout)
	}
	wantPrefixes := []string{"a.yaml:6:", "a.yaml:9:", "sub/b.yml:2:", "sub/b.yml:5:"}
	for _, p := range wantPrefixes {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, p) {
				found = true
			}
		}
		if !found {
			t.Errorf("no error line starting with %q in:\n%s", p, r.stdout)
		}
	}

	r = herald(t, dir, "validate", "--format", "json", ".")
	if r.code != exitCheck {
		t.Fatalf("json: exit %d, want %d", r.code, exitCheck)
	}
	var rep struct {
		Valid  bool `json:"valid"`
		Errors []struct {
			File   string `json:"file"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("json output: %v\n%s", err, r.stdout)
	}
	if rep.Valid || len(rep.Errors) != len(lines) {
		t.Errorf("json report valid=%v with %d errors, want invalid with %d", rep.Valid, len(rep.Errors), len(lines))
	}
	for _, e := range rep.Errors {
		if e.File == "" || e.Line == 0 || e.Column == 0 {
			t.Errorf("json error without a position: %+v", e)
		}
	}
}

func TestNextAdHoc(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{
			"cron across spring-forward in New York",
			[]string{"--cron", "30 2 * * *", "--timezone", "America/New_York", "--from", "2026-03-07T00:00:00Z", "-n", "3"},
			[]string{"2026-03-07T02:30:00-05:00", "2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00"},
		},
		{
			"rrule with DTSTART in a zone",
			[]string{"--rrule", "FREQ=MONTHLY;BYMONTHDAY=-1", "--start", "2028-01-31T12:00:00", "--timezone", "Asia/Kathmandu", "--from", "2028-01-01T00:00:00Z", "-n", "3"},
			[]string{"2028-01-31T12:00:00+05:45", "2028-02-29T12:00:00+05:45", "2028-03-31T12:00:00+05:45"},
		},
		{
			"one-shot local wall time",
			[]string{"--at", "2030-06-01T09:00:00", "--timezone", "Europe/Berlin", "--from", "2030-01-01T00:00:00Z"},
			[]string{"2030-06-01T09:00:00+02:00"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := herald(t, "", append([]string{"next"}, tt.args...)...)
			if r.code != exitOK {
				t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			got := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestNextFromFile(t *testing.T) {
	t.Parallel()
	r := herald(t, "", "next", "schedules.example.yaml", "--schedule", "new-york-morning", "--from", "2027-03-13T12:00:00Z", "-n", "2")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	want := "2027-03-14T03:30:00-04:00\n2027-03-15T02:30:00-04:00\n"
	if r.stdout != want {
		t.Errorf("got %q, want %q", r.stdout, want)
	}

	r = herald(t, "", "next", "--json", "schedules.example.yaml", "--schedule", "weekday-tip", "--from", "2026-06-01T00:00:00Z", "-n", "3")
	if r.code != exitOK {
		t.Fatalf("json: exit %d\n%s", r.code, r.stderr)
	}
	var fires []nextFire
	if err := json.Unmarshal([]byte(r.stdout), &fires); err != nil {
		t.Fatal(err)
	}
	if len(fires) != 3 || fires[0].Planned != "2026-06-01T09:00:00+02:00" {
		t.Fatalf("fires = %+v", fires)
	}
	for _, f := range fires {
		if f.Fire < f.Planned || f.Fire > strings.Replace(f.Planned, "09:00:00", "09:05:00", 1) {
			t.Errorf("fire %s not within the 5m jitter after planned %s", f.Fire, f.Planned)
		}
	}

	r = herald(t, "", "next", "schedules.example.yaml", "--schedule", "no-such-id")
	if r.code != exitCheck || !strings.Contains(r.stderr, `no schedule with id "no-such-id"`) {
		t.Errorf("unknown schedule: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "h.db")
	for i := 0; i < 2; i++ { // idempotent
		r := herald(t, "", "migrate", "--db", db)
		if r.code != exitOK || !strings.HasPrefix(r.stdout, "schema version ") {
			t.Fatalf("run %d: exit %d, stdout %q, stderr %q", i, r.code, r.stdout, r.stderr)
		}
	}
}

func TestServeReadsEnvironment(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(heraldBin, "serve")
	cmd.Env = append(os.Environ(), "HERALD_CONFIG=", "HERALD_PUBLISHERS=notanumber")
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != exitUsage || !strings.Contains(string(out), "HERALD_PUBLISHERS") {
		t.Errorf("exit %d, output %q; want a usage error naming HERALD_PUBLISHERS", cmd.ProcessState.ExitCode(), out)
	}
}
