package schedules

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestYAMLErrorLine checks that syntax errors point at the line where
// parsing failed, not at the start of the enclosing block as yaml.v3 does.
func TestYAMLErrorLine(t *testing.T) {
	tests := []struct {
		doc  string
		line int
	}{
		{"a: 1\nb:\n  - x\n  - y\n c: 2\n", 5},
		{"a: 1\nb: \"unclosed\nc: 2\nd: 3\n", 2},
		{"a: 1\nb: x: y\nc: 2\n", 2},
		{"a: 1\nb:\n\t- x\n", 3},
		{"schedules:\n  - id: a\n    post:\n      text: hi\n   bad: 1\n", 5},
		{"a: 1\nb: *nope\n", 2},
		{"a: 1\n- b\n", 2},
		{"a: [1, 2\nb: 3\n", 1},
		{"a: 1\nb: @x\n", 2},
	}
	for _, tt := range tests {
		var n yaml.Node
		err := yaml.Unmarshal([]byte(tt.doc), &n)
		if err == nil {
			t.Fatalf("%q parses", tt.doc)
		}
		d := yamlDiagnostic("f.yaml", []byte(tt.doc), err)
		if d.Line != tt.line || d.Col != 1 {
			t.Errorf("%q: diagnostic at %d:%d (%s), want line %d", tt.doc, d.Line, d.Col, d.Message, tt.line)
		}
	}
	// Past the size limit, yaml.v3's own line is kept.
	big := make([]byte, maxNarrowSize+1)
	d := yamlDiagnostic("f.yaml", big, errors.New("yaml: line 3: oops"))
	if d.Line != 3 || d.Message != "invalid YAML: oops" {
		t.Errorf("big file: %+v", d)
	}
}

// TestYAMLErrorLineBigFile checks that narrowing stays cheap on a file near
// the limit with the mistake at its end.
func TestYAMLErrorLineBigFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("schedules:\n")
	for b.Len() < maxNarrowSize-200 {
		b.WriteString("  - {id: a, account: brand, cron: \"0 9 * * *\", post: {text: hello}}\n")
	}
	lines := strings.Count(b.String(), "\n")
	b.WriteString("  - id: x\n   bad: 1\n")
	_, err := loadBytes([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("f.yaml:%d:1: invalid YAML", lines+2)) {
		t.Errorf("Load = %.200v; want a syntax error at line %d", err, lines+2)
	}
}
