package schedules

import (
	"errors"
	"strings"
	"testing"
	"text/template"
	"time"
)

func sampleData() *RenderData {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	return &RenderData{Run: 7, Planned: time.Date(2026, 3, 2, 9, 30, 0, 0, berlin), Schedule: "weekday-tip", Account: "brand"}
}

// TestSimpleRenderMatchesTextTemplate checks that the fast path renders
// exactly what text/template does, and hands everything else over.
func TestSimpleRenderMatchesTextTemplate(t *testing.T) {
	tests := []struct {
		text   string
		simple bool
	}{
		{"plain text", true},
		{"", true},
		{"Tip #{{ .Run }}", true},
		{"{{.Run}}{{.Schedule}}{{ .Account }}", true},
		{"{{ .Planned }}", true},
		{`{{ .Planned.Format "Monday 2 January 2006, 15:04 MST" }}`, true},
		{"{{ .Planned.Format `Jan 2` }}", true},
		{`{{ .Planned.Format "\"quoted\" \u00e9" }}`, true},
		{"a }} b {{ .Run }} c", true},
		{"{{\t.Run\t}}", true},
		{"{{- .Run }}", false},
		{"{{ .Run -}}", false},
		{"{{/* comment */}}", false},
		{"{{ .Run | printf \"%03d\" }}", false},
		{`{{ .Planned.Format "}}" }}`, false},
		{"{{ .Planned.Year }}", false},
		{"{{ .Planned.Format }}", false},
		{"{{ if .Run }}x{{ end }}", false},
		{"{{ .Run ", false},
		{"{{ .Nope }}", false},
	}
	d := sampleData()
	for _, tt := range tests {
		got, ok := simpleRender(tt.text, d, nil)
		if ok != tt.simple {
			t.Errorf("simpleRender(%q) simple = %v, want %v", tt.text, ok, tt.simple)
			continue
		}
		if !ok {
			continue
		}
		tmpl, err := template.New("t").Option("missingkey=error").Parse(tt.text)
		if err != nil {
			t.Errorf("text/template cannot parse %q: %v", tt.text, err)
			continue
		}
		var b strings.Builder
		if err := tmpl.Execute(&b, d); err != nil {
			t.Errorf("text/template on %q: %v", tt.text, err)
			continue
		}
		if string(got) != b.String() {
			t.Errorf("simpleRender(%q) = %q, text/template gives %q", tt.text, got, b.String())
		}
	}
}

// TestTemplateRules checks what post templates may and may not do.
func TestTemplateRules(t *testing.T) {
	tests := []struct {
		text string
		want string // rendered text, or "error: <substring>"
	}{
		{"Tip #{{ .Run }}", "Tip #7"},
		{`{{ .Planned.Format "Mon 15:04" }}`, "Mon 09:30"},
		{`{{ if eq .Run 7 }}seven{{ else }}other{{ end }}`, "seven"},
		{`{{ with .Account }}by {{ . }}{{ end }}`, "by brand"},
		{`{{ printf "%03d" .Run }}`, "007"},
		{`{{ .Run | printf "#%d" }}`, "#7"},
		{`{{ $d := .Planned.AddDate 0 0 1 }}{{ $d.Format "Jan 2" }}`, "Mar 3"},
		{`{{ (.Planned.Add 3600000000000).Format "15:04" }}`, "10:30"},
		{`{{ .Schedule | len }}`, "11"},
		{`{{ slice .Schedule 0 7 }}`, "weekday"},
		{`{{ html "<b>" }}`, "&lt;b&gt;"},
		{`{{ .Nope }}`, "error: can't evaluate field Nope"},
		{`{{ nosuch }}`, `error: function "nosuch" not defined`},
		{`{{ range .Run }}x{{ end }}`, "error: range is not allowed"},
		{`{{ define "a" }}x{{ end }}`, "error: define and block are not allowed"},
		{`{{ block "a" . }}x{{ end }}`, "error: define and block are not allowed"},
		{`{{ template "a" }}`, "error: template and block are not allowed"},
		{`{{ $l := "Jan" }}{{ .Planned.Format $l }}`, "error: arguments of a method call must be literals"},
		{`{{ "Jan" | .Planned.Format }}`, "error: cannot take piped input"},
		{`{{ .Planned.Format (.Planned.Format "1") }}`, "error: arguments of a method call must be literals"},
		{`{{ printf "%0999d" 1 }}`, "error: widths and precisions over 280"},
		{`{{ printf "%*d" 5000 1 }}`, "error: a * width is not allowed"},
		{`{{ $a := printf "%0280d" 1 }}{{ $a = print $a $a $a $a $a $a $a $a }}{{ $a = print $a $a $a $a $a $a $a $a }}{{ $a }}`, "error: a value over 16384 bytes"},
		{strings.Repeat("x", maxTemplateBytes+1), "error: over the limit of 4096"},
	}
	d := sampleData()
	var r renderer
	for _, tt := range tests {
		got, err := r.render("post.text", tt.text, d)
		if want, isErr := strings.CutPrefix(tt.want, "error: "); isErr {
			if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrTemplate) {
				t.Errorf("render(%.60q) = %q, %v; want an ErrTemplate containing %q", tt.text, got, err, want)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("render(%.60q) = %q, %v; want %q", tt.text, got, err, tt.want)
		}
	}
}

// TestTemplateCostIsBounded runs templates built to grow exponentially and
// checks that they fail fast.
func TestTemplateCostIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{{ $a := "xxxxxxxxxxxxxxxx" }}`)
	for range 60 {
		b.WriteString(`{{ $a = print $a $a }}`)
	}
	b.WriteString(`{{ $a }}`)
	var h strings.Builder
	h.WriteString(`{{ $a := "<<<<<<<<" }}`)
	for range 60 {
		h.WriteString(`{{ $a = printf "%s%s" (html $a) $a }}`)
	}
	for _, text := range []string{b.String(), h.String()} {
		var r renderer
		_, err := r.render("post.text", text, sampleData())
		if !errors.Is(err, ErrTemplate) {
			t.Errorf("render = %v, want ErrTemplate", err)
		}
	}
}
