package yamlfast

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// junk is an Alloc whose memory is not zeroed, as a reused arena's may
// not be: Parse must overwrite all of it.
type junk struct{}

var junkNode = &yaml.Node{Kind: yaml.AliasNode, Value: "junk"}

func (junk) Node() *yaml.Node {
	return &yaml.Node{Kind: yaml.AliasNode, Style: yaml.LiteralStyle, Tag: "!junk", Value: "junk", Anchor: "junk",
		Alias: junkNode, Content: []*yaml.Node{junkNode}, HeadComment: "# junk", Line: 99, Column: 99}
}

func (junk) Ptrs(n int) []*yaml.Node {
	s := make([]*yaml.Node, n)
	for i := range s {
		s[i] = junkNode
	}
	return s
}

// v3 parses data as yaml.v3 does for Herald: one document into a node.
func v3(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("a second document (%v)", err)
	}
	return &doc, nil
}

// diff describes the first difference between two trees, or returns "".
func diff(got, want *yaml.Node, at string) string {
	if got.Kind != want.Kind || got.Style != want.Style || got.Tag != want.Tag || got.Value != want.Value ||
		got.Anchor != want.Anchor || got.Line != want.Line || got.Column != want.Column || len(got.Content) != len(want.Content) {
		return fmt.Sprintf("%s: got kind %d style %d tag %q value %q at %d:%d with %d children,\n"+
			"yaml.v3 has kind %d style %d tag %q value %q at %d:%d with %d children",
			at, got.Kind, got.Style, got.Tag, got.Value, got.Line, got.Column, len(got.Content),
			want.Kind, want.Style, want.Tag, want.Value, want.Line, want.Column, len(want.Content))
	}
	for i := range got.Content {
		if d := diff(got.Content[i], want.Content[i], fmt.Sprintf("%s/%d", at, i)); d != "" {
			return d
		}
	}
	return ""
}

// check holds Parse to its contract on data, and reports whether Parse
// accepted it.
func check(t *testing.T, data []byte) bool {
	t.Helper()
	got, ok := Parse(data, junk{})
	if !ok {
		return false
	}
	want, err := v3(data)
	if err != nil {
		t.Fatalf("Parse accepted what yaml.v3 rejects (%v):\n%s", err, data)
	}
	if d := diff(got, want, "doc"); d != "" {
		t.Fatalf("%s\nin:\n%s", d, data)
	}
	return true
}

// accepted are documents inside the subset: Parse must read each one.
var accepted = []string{
	"a: b\n",
	"a: b",
	"---\na: b\n",
	"--- # the start\na: 1\n",
	"# a comment\n\n  # another\na: b # trailing\nc:   d  \n",
	"a:\n  b: c\n  d: [1, 2.5, -3, 0x1F, 1_000]\ne: f\n",
	"schedules:\n- id: a\n  cron: \"0 9 * * 1\"\n  post: {text: \"hi {{ .Run }}\"}\n- id: b\n  at: 2026-01-05T10:00:00Z\n  post:\n    text: 'it''s'\n",
	"schedules:\n  - {id: s-0000001, account: bench, cron: \"0 0 1 1 *\", post: {text: \"post {{ .Run }}\"}}\n  - {id: s-0000002, account: bench, cron: \"0 0 1 1 *\", post: {text: \"post {{ .Run }}\"}}\n",
	"a: [b, [c, d], {e: f}]\n",
	"a: {}\nb: []\nc: { }\n",
	"- a\n- - b\n  - c\n- d: e\n  f: g\n",
	"-\n  a: b\n-   c\n",
	"a:\n- b\n- c\nd: e\n",
	"- a:\n  - b\n  c: d\n",
	"x: null\ny: ~\nz: true\nw: no\nv: 1e3\nu: .inf\nt: -.5\ns: +1\nr: 2026-01-05\nq: 0o17\n",
	"key with spaces: value with  spaces\nurl: http://example.com/a#b\ntime: 12:30:00\n",
	"\"quoted key\": 1\n'single': 2\n",
	"a : b\n",
	"esc: \"\\t\\n\\\\ \\\" \\u00e9 \\x41 \\U0001F600 \\0 \\e \\N \\_ \\L \\P\"\n",
	"emoji: \"café 🎉\"\nplain: naïve text 🎉 here\nkéy: [é, ü]\n",
	"<<: {a: b}\n",
	"a: -b\nc: [-d, e-f]\n",
	"a: 'x' # c\nb: \"y\"   # c\n",
	"  a: b\n  c: d\n",
	"deep: {a: {b: {c: [1, [2, [3]]]}}}\n",
}

// declined are outside the subset (or not YAML at all): Parse must leave
// each to yaml.v3.
var declined = []string{
	"",
	"# only a comment\n",
	"\xef\xbb\xbfa: b\n",
	"a: &x b\nc: *x\n",
	"a: !!str 1\n",
	"a: |\n  text\n",
	"a: >\n  text\n",
	"a: b\n  c\n",
	"a:\n",
	"a:\nb: c\n",
	"- \n- a\n",
	"a: [b,\n  c]\n",
	"a: \"b\n  c\"\n",
	"a: b\n---\nc: d\n",
	"a: b\n...\n",
	"%YAML 1.2\n---\na: b\n",
	"a:\tb\n",
	"a: b\r\n",
	"a: \x01\n",
	"a: \xff\n",
	"a: b: c\n",
	"a: [b: c]\n",
	"a: {b, c}\n",
	"a: [b, ]\n",
	"a: {b: }\n",
	"? a\n: b\n",
	"a: \"\\q\"\n",
	"a: \"\\ud800\"\n",
	"a: \"\\U80000000\"\n", // overflows a rune
	"a: \"\\U00110000\"\n",
	"a: \"b\"c\n",
	"a: [b]c\n",
	"{a: b}: c\n",
	"a: b\n- c\n",
	"- a\nb: c\n",
	"a:\n  - b\n  c: d\n",
	"a: {b: c:d}\n",
	"a: @b\n",
	"a: `b\n",
	"a: b #c\n d\n",
	strings.Repeat("[", maxDepth+5) + strings.Repeat("]", maxDepth+5) + "\n",
	strings.Repeat("k", maxKey+10) + ": v\n",
	"a: \u2028b\n",
	"a: b\u0085\n",
}

func TestParseAccepts(t *testing.T) {
	for _, in := range accepted {
		if !check(t, []byte(in)) {
			t.Errorf("Parse declined a document of its subset:\n%s", in)
		}
	}
}

func TestParseDeclines(t *testing.T) {
	for _, in := range declined {
		if check(t, []byte(in)) {
			t.Errorf("Parse accepted a document outside its subset:\n%s", in)
		}
	}
}

// TestParseMatchesYAMLv3OnTheProjectsFiles runs every YAML file of the
// repository through both parsers.
func TestParseMatchesYAMLv3OnTheProjectsFiles(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	n, read := 0, 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		if check(t, data) {
			read++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 || read < n/3 {
		t.Fatalf("Parse read %d of %d YAML files; the test expects most of them in its subset", read, n)
	}
	t.Logf("Parse read %d of the repository's %d YAML files; yaml.v3 the rest", read, n)
}

var (
	randomRuns = flag.Int("runs", 20000, "random documents for TestParseMatchesYAMLv3OnRandomDocuments")
	seed       = flag.Uint64("seed", 1, "their seed")
)

// TestParseMatchesYAMLv3OnRandomDocuments builds documents from pieces
// that are often valid and often not, and holds Parse to yaml.v3 on each.
func TestParseMatchesYAMLv3OnRandomDocuments(t *testing.T) {
	rng := rand.New(rand.NewPCG(*seed, 2))
	runs, read := *randomRuns, 0
	if testing.Short() {
		runs = 2000
	}
	var seen [][]byte // short documents, to mutate further
	for _, in := range accepted {
		seen = append(seen, []byte(in))
	}
	for range runs {
		var in []byte
		if rng.IntN(2) == 0 || len(seen) == 0 {
			in = randomDocument(rng)
		} else {
			in = mutate(rng, seen[rng.IntN(len(seen))])
		}
		if check(t, in) {
			read++
		}
		if len(in) < 200 && len(seen) < 5000 {
			seen = append(seen, in)
		}
	}
	if read < runs/5 {
		t.Fatalf("Parse read only %d of %d random documents; the generator no longer exercises it", read, runs)
	}
	t.Logf("Parse read %d of %d random documents", read, runs)
}

var (
	scalars = []string{"a", "b c", "1", "-1", "0x1f", "1.5", ".5", "true", "No", "~", "null", "2026-01-05",
		"2026-01-05T10:00:00Z", "12:30", "a:b", "-a", "http://x/y#z", "a #b", "\"q\"", "'s'", "'it''s'",
		"\"e\\n\\u00e9\"", "é", "🎉 x", "<<", "a,b", "a]", "-", "?", ":", "\"\"", "''", "0o7", "+.inf", "y", "1_0"}
	pieces = []string{": ", ":", " ", "  ", "\n", "\n  ", "\n    ", "- ", "-", "[", "]", "{", "}", ", ", ",",
		" # c", "#", "---\n", "...\n", "&a ", "*a", "!!str ", "? ", "|\n", "\t", "\"", "'"}
)

// randomDocument writes a document that is usually close to valid YAML:
// lines of keys and values, items, flow collections, with a random piece
// thrown in now and then.
func randomDocument(rng *rand.Rand) []byte {
	var b strings.Builder
	var write func(depth, indent int)
	pad := func(n int) { b.WriteString(strings.Repeat(" ", n)) }
	flow := func() {
		var fl func(depth int)
		fl = func(depth int) {
			if depth > 2 || rng.IntN(3) == 0 {
				b.WriteString(scalars[rng.IntN(len(scalars))])
				return
			}
			open, close, isMap := "[", "]", rng.IntN(2) == 0
			if isMap {
				open, close = "{", "}"
			}
			b.WriteString(open)
			for i := range rng.IntN(4) {
				if i > 0 {
					b.WriteString(", ")
				}
				if isMap {
					b.WriteString(scalars[rng.IntN(len(scalars))])
					b.WriteString(": ")
				}
				fl(depth + 1)
			}
			b.WriteString(close)
		}
		fl(0)
	}
	value := func() {
		if rng.IntN(4) == 0 {
			flow()
		} else {
			b.WriteString(scalars[rng.IntN(len(scalars))])
		}
		if rng.IntN(8) == 0 {
			b.WriteString(" # note")
		}
	}
	write = func(depth, indent int) {
		if depth > 3 || rng.IntN(4) == 0 {
			value()
			b.WriteString("\n")
			return
		}
		if rng.IntN(2) == 0 { // a mapping
			for i := range 1 + rng.IntN(3) {
				if i > 0 {
					pad(indent)
				}
				b.WriteString(scalars[rng.IntN(len(scalars))])
				b.WriteString(": ")
				if rng.IntN(2) == 0 {
					value()
					b.WriteString("\n")
				} else {
					b.WriteString("\n")
					in := indent + 1 + rng.IntN(3)
					if rng.IntN(6) == 0 {
						in = indent // an indentless sequence, or a mistake
					}
					pad(in)
					write(depth+1, in)
				}
			}
			return
		}
		for i := range 1 + rng.IntN(3) { // a sequence
			if i > 0 {
				pad(indent)
			}
			b.WriteString("- ")
			write(depth+1, indent+2)
		}
	}
	if rng.IntN(5) == 0 {
		b.WriteString("---\n")
	}
	write(0, 0)
	out := []byte(b.String())
	for range rng.IntN(3) { // a random piece somewhere
		if rng.IntN(2) == 0 && len(out) > 0 {
			i := rng.IntN(len(out))
			out = append(out[:i], append([]byte(pieces[rng.IntN(len(pieces))]), out[i:]...)...)
		}
	}
	return out
}

// mutate returns a copy of in with a few bytes deleted, replaced, inserted
// or repeated.
func mutate(rng *rand.Rand, in []byte) []byte {
	const alphabet = " -:#[]{},\n'\"0a\\"
	out := append([]byte(nil), in...)
	for range 1 + rng.IntN(4) {
		if len(out) == 0 {
			out = append(out, 'a')
		}
		j := rng.IntN(len(out))
		switch rng.IntN(4) {
		case 0:
			out = append(out[:j], out[j+1:]...)
		case 1:
			out[j] = byte(rng.IntN(256))
		case 2:
			out = slices.Insert(out, j, alphabet[rng.IntN(len(alphabet))])
		case 3:
			k := rng.IntN(len(out))
			out = slices.Insert(out, j, slices.Clone(out[min(j, k):max(j, k)])...)
		}
	}
	return out
}

func FuzzMatchesYAMLv3(f *testing.F) {
	for _, in := range accepted {
		f.Add([]byte(in))
	}
	for _, in := range declined {
		f.Add([]byte(in))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		f.Add(randomDocument(rng))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check(t, data)
	})
}

// TestColumnsOfLongLinesAreLinear parses one long line of non-ASCII
// items, each of whose columns must be counted in characters, and checks
// that the counting read each byte of the line about once: counting from
// the line's start for each node would read it 100,000 times over.
func TestColumnsOfLongLinesAreLinear(t *testing.T) {
	data := []byte("a: [" + strings.Repeat("é, ", 100000) + "é] # ünïcödé\nb: [x, ÿ]\n")
	check(t, data)
	p := newParser(data, junk{})
	if _, ok := p.document(); !ok {
		t.Fatal("declined")
	}
	if p.counted > 2*len(data) {
		t.Errorf("columns counted over %d bytes of a %d-byte document", p.counted, len(data))
	}
}
