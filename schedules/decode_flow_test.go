package schedules

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// flowCases are files flowTree must read (ok) or leave to yaml.v3.
var flowCases = []struct {
	text string
	ok   bool
}{
	{"schedules:\n  - {id: s-0000001, account: bench, cron: \"0 0 1 1 *\", post: {text: \"post {{ .Run }}\"}}\n", true},
	{"schedules:\n  - {id: a, account: b}\n  - {id: c, account: b, enabled: yes, timezone: Europe/Berlin}\n", true},
	{"schedules:\n    - {id: a,account: b ,  x:   \"\" , post: {text: \"  two  spaces #no comment \"}}\n", true},
	{"schedules:\n - {a: {b: {c: {d: e}}}}\n", true},
	{"schedules:\n - {a: No, b: on, c: Infinity, d: NaN, e: e-5, f: x.y/z_w, max_attempts: n}\n", true},
	{"schedules:\n - {a: {b: {c: {d: {e: f}}}}}\n", false}, // deeper than flowMaxDepth
	{"schedules:\n  - {id: a}\n   - {id: b}\n", false},
	{"schedules:\n  - {id: a}\n  - {id: b}", false},
	{"schedules:\n  - {id: a} \n", false},
	{"schedules:\n  - {id: a} # c\n", false},
	{"schedules:\n  - {id: a}\n\n  - {id: b}\n", false},
	{"schedules:\n- {id: a}\n", false},
	{"schedules:\n  -  {id: a}\n", false},
	{"schedules:\n  - {id: true}\n", false},
	{"schedules:\n  - {true: a}\n", false},
	{"schedules:\n  - {id: null}\n", false},
	{"schedules:\n  - {id: 5m}\n", false},
	{"schedules:\n  - {id: \"a\\\"b\"}\n", false},
	{"schedules:\n  - {id: 'a'}\n", false},
	{"schedules:\n  - {id: &x a, b: *x}\n", false},
	{"schedules:\n  - {id: a b}\n", false},
	{"schedules:\n  - {id: a,}\n", false},
	{"schedules:\n  - {}\n", false},
	{"schedules:\n  - {id : a}\n", false},
	{"schedules:\n  - {id:a}\n", false},
	{"schedules:\n  - {id: [a]}\n", false},
	{"schedules:\n  - {id: \"é\"}\n", false},
	{"schedules:\n  - {id: a\n", false},
	{"schedules:\r\n  - {id: a}\r\n", false},
	{"schedules:\n", false},
	{"accounts:\n  bench: {platform: x}\n", false},
	{"# c\nschedules:\n  - {id: a}\n", false},
	{"---\nschedules:\n  - {id: a}\n", false},
	{"schedules:\n  - {id: a}\n---\nschedules:\n  - {id: b}\n", false},
}

// TestFlowTree checks that flowTree reads the files of its form, leaves
// the others, and builds for each what yaml.v3 builds.
func TestFlowTree(t *testing.T) {
	for _, c := range flowCases {
		doc, ok := flowTree([]byte(c.text), newScratch())
		if ok != c.ok {
			t.Errorf("flowTree(%q) ok = %v, want %v", c.text, ok, c.ok)
		}
		if ok {
			if diff := compareYAML(doc, []byte(c.text)); diff != "" {
				t.Errorf("flowTree(%q): %s", c.text, diff)
			}
		}
	}
	var b strings.Builder
	b.WriteString("schedules:\n  - {")
	for i := range 3 * flowMaxKeys { // more distinct keys than flowTree shares
		fmt.Fprintf(&b, "k%c%c: v, ", 'a'+i/26, 'a'+i%26)
	}
	b.WriteString("id: a}\n  - {kaa: v, kzz: v, kzz: w}\n")
	if doc, ok := flowTree([]byte(b.String()), newScratch()); !ok {
		t.Errorf("flowTree refused %q", b.String())
	} else if diff := compareYAML(doc, []byte(b.String())); diff != "" {
		t.Error(diff)
	}
	b.Reset()
	b.WriteString("schedules:\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "  - {id: s-%07d, account: bench, cron: \"0 0 1 1 *\", post: {text: \"post {{ .Run }}\"}}\n", i)
	}
	doc, ok := flowTree([]byte(b.String()), newScratch())
	if !ok {
		t.Fatal("flowTree refused the benchmark form")
	}
	if diff := compareYAML(doc, []byte(b.String())); diff != "" {
		t.Error(diff)
	}
}

// FuzzFlowTree checks that whatever flowTree reads, it reads as yaml.v3
// does.
func FuzzFlowTree(f *testing.F) {
	for _, c := range flowCases {
		f.Add([]byte(c.text))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if doc, ok := flowTree(data, newScratch()); ok {
			if diff := compareYAML(doc, data); diff != "" {
				t.Errorf("flowTree(%q): %s", data, diff)
			}
		}
	})
}

// compareYAML compares got with the tree of yaml.v3's decode of data,
// which must be one document; it returns the first difference.
func compareYAML(got *yaml.Node, data []byte) string {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var want yaml.Node
	if err := dec.Decode(&want); err != nil {
		return fmt.Sprintf("yaml.v3 fails: %v", err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); err == nil {
		return "yaml.v3 reads a second document"
	}
	return compareNodes(got, &want, "doc")
}

func compareNodes(got, want *yaml.Node, at string) string {
	type fields struct {
		kind               yaml.Kind
		style              yaml.Style
		tag, value, anchor string
		alias              *yaml.Node
		head, line, foot   string
		lineNo, col        int
	}
	of := func(n *yaml.Node) fields {
		return fields{n.Kind, n.Style, n.Tag, n.Value, n.Anchor, n.Alias, n.HeadComment, n.LineComment, n.FootComment, n.Line, n.Column}
	}
	if g, w := of(got), of(want); g != w {
		return fmt.Sprintf("%s: got %+v, want %+v", at, g, w)
	}
	if len(got.Content) != len(want.Content) {
		return fmt.Sprintf("%s: %d children, want %d", at, len(got.Content), len(want.Content))
	}
	for i := range got.Content {
		if d := compareNodes(got.Content[i], want.Content[i], fmt.Sprintf("%s[%d]", at, i)); d != "" {
			return d
		}
	}
	return ""
}
