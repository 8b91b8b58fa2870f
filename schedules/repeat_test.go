package schedules

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestTemplateFireFields checks which fields that change from fire to fire
// a template is found to use, on both of prepare's paths.
func TestTemplateFireFields(t *testing.T) {
	both := usesRun | usesPlanned
	tests := []struct {
		text   string
		simple bool
		want   fireFields
	}{
		{"plain text", true, 0},
		{"{{ .Schedule }} by {{.Account}}", true, 0},
		{"no .Run outside {{ .Account }}", true, 0},
		{"#{{ .Run }}", true, usesRun},
		{"{{.Planned}}", true, usesPlanned},
		{`{{ .Planned.Format "Monday" }} #{{ .Run }}`, true, both},
		{`{{ "literal" }}`, false, 0},
		{"{{/* a comment */}}text", false, 0},
		{`{{ $x := "fixed" }}{{ $x }}`, false, 0},
		{"{{- .Account -}}", false, 0},
		{"{{ .Run | printf \"%03d\" }}", false, usesRun},
		{"{{ $.Run }}", false, usesRun},
		{"{{ $ }}", false, both},
		{"{{ . }}", false, both},
		{"{{ $r := .Run }}{{ $r }}", false, usesRun},
		{"{{ (.Planned).Year }}", false, usesPlanned},
		{"{{ .Planned.Year }}", false, usesPlanned},
		{"{{ with .Planned }}{{ .Weekday }}{{ end }}", false, usesPlanned},
		{"{{ if eq .Run 1 }}first{{ else }}{{ .Schedule }}{{ end }}", false, usesRun},
		{"{{ if true }}a{{ else if .Planned.IsZero }}b{{ end }}", false, usesPlanned},
		{"{{ printf \"%s %d\" .Account .Planned.YearDay }}", false, usesPlanned},
	}
	r := &renderer{cache: make(map[string]cachedTemplate)}
	for _, tt := range tests {
		p, err := r.prepare("post.text", tt.text)
		if err != nil {
			t.Fatalf("%q: %v", tt.text, err)
		}
		if p.simple != tt.simple {
			t.Errorf("%q: simple = %v, want %v", tt.text, p.simple, tt.simple)
		}
		if got := templateFireFields(p); got != tt.want {
			t.Errorf("%q: fields %b, want %b", tt.text, got, tt.want)
		}
		if p.simple { // text/template's tree must say the same
			tm, err := r.compile("post.text", tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if got := templateFireFields(prepared{text: tt.text, t: tm}); got != tt.want {
				t.Errorf("%q parsed: fields %b, want %b", tt.text, got, tt.want)
			}
		}
	}
}

var repeatFiles = map[string]string{
	"accounts.yaml": account,
	"a.yaml": `schedules:
  - {id: daily, account: brand, cron: "@daily", post: {text: "Same {{ .Account }}", thread: ["ok {{ .Run }}", "same"]}}
  - {id: once, account: brand, at: 2027-01-01T09:00:00, post: {text: "Same"}}
  - {id: clock, account: brand, cron: "0 9 * * *", post: {text: 'At {{ .Planned.Format "15:04" }}'}}
`,
}

// TestWarningsOnEveryPath loads a file with warnings through each way a
// decode is obtained (parsed, reused by the Loader, read from the decode
// cache by a new process) and checks that the warnings are the same.
func TestWarningsOnEveryPath(t *testing.T) {
	dir := writeFiles(t, repeatFiles)
	fresh := mustLoad(t, dir)
	var want []string
	for _, d := range fresh.Warnings {
		want = append(want, strings.TrimPrefix(d.String(), dir))
	}
	wantLines := []string{
		"/a.yaml:2:62: warning: post.text: is the same at every fire (it uses neither .Run nor .Planned): " + repeatNote,
		"/a.yaml:2:111: warning: post.thread[1]: is the same at every fire (it uses neither .Run nor .Planned): " + repeatNote,
		"/a.yaml:4:65: warning: post.text: renders the same at its first two fires (Planned 2026-01-01T09:00:00Z and 2026-01-02T09:00:00Z): " + repeatNote,
	}
	if !reflect.DeepEqual(want, wantLines) {
		t.Fatalf("warnings:\n%s\nwant\n%s", strings.Join(want, "\n"), strings.Join(wantLines, "\n"))
	}
	if f := fresh.Warnings[1].Field; f != "schedules[0].post.thread[1]" {
		t.Errorf("Field = %q", f)
	}

	cache := &mapCache{}
	for _, step := range []struct {
		name string
		want LoadStats
	}{
		{"parsed", LoadStats{Files: 2, Decoded: 2}},
		{"cached", LoadStats{Files: 2, Decoded: 1, Cached: 1}},
	} {
		l := NewLoader(LoadOptions{Cache: cache})
		cfg, err := l.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if st := l.LastStats(); st != step.want {
			t.Fatalf("%s: %+v, want %+v", step.name, st, step.want)
		}
		if !reflect.DeepEqual(cfg.Warnings, fresh.Warnings) {
			t.Errorf("%s: warnings %v, want %v", step.name, cfg.Warnings, fresh.Warnings)
		}
		again, err := l.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if st := l.LastStats(); st.Reused != 2 {
			t.Fatalf("%s, then reused: %+v", step.name, st)
		}
		if !reflect.DeepEqual(again.Warnings, fresh.Warnings) {
			t.Errorf("%s, then reused: warnings %v, want %v", step.name, again.Warnings, fresh.Warnings)
		}
	}
	if cache.puts != 1 {
		t.Errorf("%d cache entries stored, want 1 (a file with warnings is stored)", cache.puts)
	}
}

// TestWarningsNotWithErrors: a configuration with an error has no Config,
// and its Diagnostics hold errors only.
func TestWarningsNotWithErrors(t *testing.T) {
	files := map[string]string{"a.yaml": repeatFiles["a.yaml"] + "  - {id: bad, account: brand, cron: nope, post: {text: x}}\n",
		"accounts.yaml": account}
	_, err := Load(LoadOptions{}, writeFiles(t, files))
	var diags Diagnostics
	if !errors.As(err, &diags) || len(diags) != 1 || diags[0].Warning {
		t.Fatalf("Load = %v; want one error", err)
	}
}

// TestWarningsAreBounded: past maxFileDiagnostics a file's warnings are
// counted, as its errors are.
func TestWarningsAreBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(account + "schedules:\n")
	for i := range maxFileDiagnostics + 5 {
		fmt.Fprintf(&b, "  - {id: s%d, account: brand, cron: \"@daily\", post: {text: same}}\n", i)
	}
	cfg := mustLoad(t, writeFiles(t, map[string]string{"a.yaml": b.String()}))
	if n := len(cfg.Warnings); n != maxFileDiagnostics+1 {
		t.Fatalf("%d warnings, want %d", n, maxFileDiagnostics+1)
	}
	last := cfg.Warnings[0] // line 0 sorts first
	if !last.Warning || last.Line != 0 || !strings.Contains(last.Message, "5 more warnings in this file are not shown") {
		t.Errorf("summary = %+v", last)
	}
}
