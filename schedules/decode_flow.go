package schedules

import (
	"go.yaml.in/yaml/v3"
)

// flowTree builds, for a file in the one-line flow form that generated
// configurations use (the engine's benchmarks, for one), the yaml.Node
// tree yaml.v3 would build, at a fraction of the cost: yaml.v3's scanner
// and its allocations are most of what loading such a file costs. The form
// is narrow, and the tree the same node for node (kinds, tags, styles,
// values, lines and columns; TestFlowTree compares with yaml.v3):
//
//	schedules:
//	  - {id: s-0000001, account: bench, cron: "0 0 1 1 *", post: {text: "post {{ .Run }}"}}
//
// that is, "schedules:" and then one or more lines, each the same
// indentation, "- " and a flow mapping of plain keys, whose values are
// plain words starting with a letter (not true, false or null), double
// quoted strings without escapes, or flow mappings of the same kind. The
// file is printable ASCII with "\n" ends, no comments, no blank lines. It
// reports false for anything else, and the caller then uses yaml.v3, so
// every other file (and every syntax error) reads exactly as before.
//
// Nodes come from the worker's scratch (see scratch). Each distinct key,
// and each value equal to the one before it for the same key (a shared
// account, timing or text), is one string, which the loaded schedules then
// share: a Config of such files keeps less than yaml.v3's one string per
// value.
func flowTree(data []byte, s *scratch) (*yaml.Node, bool) {
	const head = "schedules:\n"
	if len(data) <= len(head) || string(data[:len(head)]) != head {
		return nil, false
	}
	f := flowParser{data: data, pos: len(head), line: 2, s: s}
	indent := 0
	for indent < len(data)-f.pos && data[f.pos+indent] == ' ' {
		indent++
	}
	if indent == 0 {
		return nil, false
	}
	top := f.node(yaml.MappingNode, "!!map", 1, 1)
	key := f.node(yaml.ScalarNode, "!!str", 1, 1)
	key.Value = "schedules"
	seq := f.node(yaml.SequenceNode, "!!seq", 2, indent+1)
	top.Content = []*yaml.Node{key, seq}
	for f.pos < len(data) {
		f.lineStart = f.pos
		for i := range indent {
			if f.at(f.pos+i) != ' ' {
				return nil, false
			}
		}
		f.pos += indent
		if f.at(f.pos) != '-' || f.at(f.pos+1) != ' ' || f.at(f.pos+2) != '{' {
			return nil, false
		}
		f.pos += 2
		m, ok := f.mapping(0)
		if !ok || f.at(f.pos) != '\n' {
			return nil, false
		}
		seq.Content = append(seq.Content, m)
		f.pos++
		f.line++
	}
	doc := f.node(yaml.DocumentNode, "", 1, 1)
	doc.Content = []*yaml.Node{top}
	return doc, true
}

// flowParser is flowTree's state over one file.
type flowParser struct {
	data           []byte
	pos, lineStart int
	line           int
	s              *scratch
	stack          []*yaml.Node // the pairs of the mappings being read
	// keys are the distinct keys seen, up to flowMaxKeys (a hostile file
	// of a million distinct keys must not make the search quadratic), and
	// last the latest value of each.
	keys, last []string
}

const (
	flowMaxDepth = 3 // mappings inside a line's mapping
	flowMaxKey   = 64
	flowMaxKeys  = 32
)

func (f *flowParser) at(i int) byte {
	if i < len(f.data) {
		return f.data[i]
	}
	return 0
}

func (f *flowParser) node(kind yaml.Kind, tag string, line, col int) *yaml.Node {
	n := f.s.nodes.new()
	n.Kind, n.Tag, n.Line, n.Column = kind, tag, line, col
	return n
}

// content copies the top len(f.stack)-from entries of the stack into a
// Content slice of their own.
func (f *flowParser) content(from int) []*yaml.Node {
	c := f.s.ptrs.slice(len(f.stack) - from)
	copy(c, f.stack[from:])
	f.stack = f.stack[:from]
	return c
}

func (f *flowParser) col(i int) int { return i - f.lineStart + 1 }

func (f *flowParser) skipSpaces() {
	for f.at(f.pos) == ' ' {
		f.pos++
	}
}

// mapping reads a flow mapping at f.pos, which holds '{'.
func (f *flowParser) mapping(depth int) (*yaml.Node, bool) {
	if depth > flowMaxDepth {
		return nil, false
	}
	m := f.node(yaml.MappingNode, "!!map", f.line, f.col(f.pos))
	m.Style = yaml.FlowStyle
	f.pos++
	from := len(f.stack)
	for {
		f.skipSpaces()
		start := f.pos
		for isKeyByte(f.at(f.pos)) {
			f.pos++
		}
		if f.pos == start || f.pos-start > flowMaxKey || !isLetter(f.data[start]) || resolvesToOther(f.data[start:f.pos]) ||
			f.at(f.pos) != ':' || f.at(f.pos+1) != ' ' {
			return nil, false
		}
		key := f.node(yaml.ScalarNode, "!!str", f.line, f.col(start))
		var ki int
		key.Value, ki = f.key(f.data[start:f.pos])
		f.pos++
		f.skipSpaces()
		var v *yaml.Node
		switch c := f.at(f.pos); {
		case c == '{':
			var ok bool
			if v, ok = f.mapping(depth + 1); !ok {
				return nil, false
			}
		case c == '"':
			start := f.pos
			f.pos++
			for c := f.at(f.pos); c != '"'; c = f.at(f.pos) {
				if c < 0x20 || c > 0x7e || c == '\\' {
					return nil, false
				}
				f.pos++
			}
			f.pos++
			v = f.node(yaml.ScalarNode, "!!str", f.line, f.col(start))
			v.Style = yaml.DoubleQuotedStyle
			v.Value = f.value(ki, f.data[start+1:f.pos-1])
		case isLetter(c):
			start := f.pos
			for isWordByte(f.at(f.pos)) {
				f.pos++
			}
			if resolvesToOther(f.data[start:f.pos]) {
				return nil, false
			}
			v = f.node(yaml.ScalarNode, "!!str", f.line, f.col(start))
			v.Value = f.value(ki, f.data[start:f.pos])
		default:
			return nil, false
		}
		f.stack = append(f.stack, key, v)
		f.skipSpaces()
		switch f.at(f.pos) {
		case ',':
			f.pos++
			continue
		case '}':
			f.pos++
			m.Content = f.content(from)
			return m, true
		}
		return nil, false
	}
}

// key returns the key b as a string shared by every equal key, and its
// index in f.keys, or -1 when f.keys is full.
func (f *flowParser) key(b []byte) (string, int) {
	for i, k := range f.keys {
		if k == string(b) {
			return k, i
		}
	}
	k := string(b)
	if len(f.keys) == flowMaxKeys {
		return k, -1
	}
	f.keys = append(f.keys, k)
	f.last = append(f.last, "")
	return k, len(f.keys) - 1
}

// value returns b as a string: the latest value of key ki when equal.
func (f *flowParser) value(ki int, b []byte) string {
	if ki < 0 {
		return string(b)
	}
	if v := f.last[ki]; v == string(b) && v != "" {
		return v
	}
	v := string(b)
	f.last[ki] = v
	return v
}

// resolvesToOther reports whether the plain word w, which starts with a
// letter, is one YAML reads as other than a string.
func resolvesToOther(w []byte) bool {
	switch string(w) {
	case "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL":
		return true
	}
	return false
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isKeyByte(c byte) bool { return isLetter(c) || c == '_' }

// isWordByte is a byte of a plain value: never one that ends a plain
// scalar in a flow mapping (",:[]{}#", space) or starts an escape.
func isWordByte(c byte) bool {
	return isLetter(c) || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '/'
}
