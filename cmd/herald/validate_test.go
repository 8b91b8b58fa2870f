package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

const warnedPlan = `accounts:
  brand: {platform: x}
schedules:
  - id: tip
    account: brand
    cron: "0 9 * * 1-5"
    post:
      text: "Tip #{{ .Run }}"
      thread: ["Keep your plan in git."]
  - id: clock
    account: brand
    cron: "0 9 * * *"
    post: {text: 'Good morning, it is {{ .Planned.Format "15:04" }}.'}
  - id: once
    account: brand
    at: 2030-01-01T09:00:00Z
    post: {text: "Plain is fine once."}
`

// TestValidateWarnings: warnings are printed as FILE:LINE:COL: warning:
// message, in the JSON report too, and leave the exit status 0.
func TestValidateWarnings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "plan.yaml", warnedPlan)
	r := herald(t, dir, "validate", "plan.yaml")
	if r.code != exitOK {
		t.Fatalf("exit %d, want %d\n%s%s", r.code, exitOK, r.stdout, r.stderr)
	}
	const note = ": X refuses a repeat of an account's recent post as duplicate content, so fires after the first would fail"
	want := []string{
		"plan.yaml:9:16: warning: post.thread[0]: is the same at every fire (it uses neither .Run nor .Planned)" + note,
		"plan.yaml:13:18: warning: post.text: renders the same at its first two fires (Planned 2026-01-01T09:00:00Z and 2026-01-02T09:00:00Z)" + note,
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 3 || strings.Join(lines[:2], "\n") != strings.Join(want, "\n") {
		t.Fatalf("stdout:\n%s\nwant the lines\n%s", r.stdout, strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(lines[2], "ok: 3 schedules, 1 accounts in 1 files (revision ") || !strings.HasSuffix(lines[2], "; 2 warnings") {
		t.Errorf("summary = %q", lines[2])
	}
	if r.stderr != "" {
		t.Errorf("stderr = %q, want nothing", r.stderr)
	}

	r = herald(t, dir, "validate", "--format", "json", "plan.yaml")
	if r.code != exitOK {
		t.Fatalf("json: exit %d, want %d", r.code, exitOK)
	}
	var rep struct {
		Valid    bool              `json:"valid"`
		Errors   []json.RawMessage `json:"errors"`
		Warnings []struct {
			File    string `json:"file"`
			Line    int    `json:"line"`
			Column  int    `json:"column"`
			Field   string `json:"field"`
			Message string `json:"message"`
			Warning bool   `json:"warning"`
		} `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("json output: %v\n%s", err, r.stdout)
	}
	if !rep.Valid || rep.Errors == nil || len(rep.Errors) != 0 || len(rep.Warnings) != 2 {
		t.Fatalf("json report: %s", r.stdout)
	}
	w := rep.Warnings[0]
	if w.File != "plan.yaml" || w.Line != 9 || w.Column != 16 || w.Field != "schedules[0].post.thread[0]" || !w.Warning ||
		!strings.HasPrefix(w.Message, "post.thread[0]: is the same at every fire") {
		t.Errorf("json warning: %+v", w)
	}
}

// TestValidateWarningsWaitForErrors: files with an error print the errors
// only, as before warnings existed, and are invalid.
func TestValidateWarningsWaitForErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "plan.yaml", strings.Replace(warnedPlan, `cron: "0 9 * * *"`, `cron: "0 25 * * *"`, 1))
	r := herald(t, dir, "validate", "plan.yaml")
	if r.code != exitCheck {
		t.Fatalf("exit %d, want %d\n%s%s", r.code, exitCheck, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "warning:") || !strings.HasPrefix(r.stdout, "plan.yaml:12:11: cron: ") || r.stderr != "1 error\n" {
		t.Errorf("stdout %q, stderr %q; want the error only", r.stdout, r.stderr)
	}
	r = herald(t, dir, "validate", "--format", "json", "plan.yaml")
	if r.code != exitCheck || !strings.Contains(r.stdout, `"warnings": []`) {
		t.Errorf("json: exit %d\n%s", r.code, r.stdout)
	}
}

// TestValidateExamplesWithoutWarnings: the examples are what people copy;
// every recurring text in them changes from fire to fire. Each file is a
// plan of its own (make run-fake serves one, make cluster another).
func TestValidateExamplesWithoutWarnings(t *testing.T) {
	t.Parallel()
	examples, err := filepath.Glob("../../examples/*.yaml") // the binary runs at the root
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, plan := range append([]string{"../../schedules.example.yaml"}, examples...) {
		plan = strings.TrimPrefix(plan, "../../")
		r := herald(t, "", "validate", plan)
		if r.code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", plan, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout, "warning") || !strings.HasPrefix(r.stdout, "ok: ") {
			t.Errorf("%s: stdout = %q, want only the ok: summary", plan, r.stdout)
		}
	}
}
