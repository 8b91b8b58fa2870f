// Package yamlfast parses the plain subset of YAML that large schedule
// files are written in, into the same yaml.Node trees as go.yaml.in/yaml/v3,
// and declines everything else.
//
// Why it exists: yaml.v3 reads about 6 MB of YAML a second on our machines.
// A million schedules are some 85 MB, 15 CPU-seconds of parsing before the
// first timer can be armed, and Herald must start with a million schedules
// in under 10 seconds on two cores. This parser reads the same files many
// times faster because it does less: it builds the tree straight from the
// bytes, one line at a time, without yaml.v3's tokens and events, and takes
// its nodes from an Alloc that the caller reuses from file to file.
//
// What it reads: one document (an optional "---" first); block mappings and
// sequences; flow mappings and sequences on one line; plain, single- and
// double-quoted scalars on one line; comments. What it declines: everything
// else (anchors, aliases, tags, block scalars, scalars or flow collections
// over several lines, empty values, several documents, directives, tabs,
// carriage returns, a byte-order mark, control characters, invalid UTF-8,
// very deep nesting, long keys), and anything wrong. A file it declines is
// parsed by yaml.v3, which decides what it means and words every error, so
// Parse itself never reports a YAML error.
//
// The contract is equality: whatever Parse accepts, yaml.v3 parses without
// error into a tree of the same kinds, styles, tags, values, lines and
// columns (comments aside: Herald reads none). FuzzMatchesYAMLv3 holds the
// two parsers to it.
package yamlfast

import (
	"bytes"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Alloc hands out the memory of a tree, which must stay valid, and
// untouched by others, for as long as the caller uses the tree. It need not
// be zeroed: Parse overwrites every node and slice it takes whole, so that
// an Alloc may reuse memory without clearing it.
type Alloc interface {
	Node() *yaml.Node
	Ptrs(n int) []*yaml.Node
}

const (
	// maxDepth bounds the recursion; deeper documents are yaml.v3's.
	maxDepth = 100
	// maxKey is the longest key accepted, in bytes: yaml.v3 finds no
	// simple key more than 1024 characters long.
	maxKey = 1000
)

// Parse parses data, a whole file, into a document node. It reports false
// when data is outside the subset described in the package comment.
func Parse(data []byte, a Alloc) (*yaml.Node, bool) {
	return newParser(data, a).document()
}

func newParser(data []byte, a Alloc) *parser {
	return &parser{data: data, a: a, le: -1, docStart: true}
}

func (p *parser) document() (*yaml.Node, bool) {
	if bytes.HasPrefix(p.data, []byte("\xef\xbb\xbf")) {
		return nil, false
	}
	if !p.nextContent() || p.eof {
		return nil, false // an empty file is left to yaml.v3 too
	}
	p.docStart = false
	line, col := p.line, p.col()
	if p.marker("---") {
		p.pos += 3
		if !p.endLine() || p.eof {
			return nil, false
		}
	}
	if p.marker("---") || p.marker("...") {
		return nil, false
	}
	root := p.block(p.ind)
	if root == nil || !p.eof {
		return nil, false
	}
	doc := p.node(yaml.DocumentNode, "", line, col)
	doc.Content = p.a.Ptrs(1)
	doc.Content[0] = root
	return doc, true
}

type parser struct {
	data []byte
	a    Alloc
	pos  int

	// The current line: its number, where it starts and ends ('\n' or the
	// end of data), and whether it is all ASCII (columns are then byte
	// offsets).
	line   int
	ls, le int
	ascii  bool
	// colPos and colN are the last position col counted the characters
	// up to on a line that is not all ASCII, and their count: the parser
	// only moves forward, so counting on from there keeps a long line's
	// columns linear in its length, not quadratic.
	colPos, colN int
	counted      int  // bytes col has counted, for the test that holds it linear
	ind          int  // indentation of the current content line
	eof          bool // no content line is left
	depth        int

	docStart bool // the first content line may be "---"

	stack []*yaml.Node // children of the collections being parsed
	tmp   yaml.Node    // resolves plain scalars' tags

	// keys holds the strings of the mapping keys read so far: a file
	// repeats the same few keys, each as its own string in yaml.v3.
	keys map[string]string
}

// maxKeys bounds keys: a file of unique keys gains nothing from it.
const maxKeys = 256

// nextLine moves to the start of the next line, checking its characters.
// It reports false at the end of data and for a line outside the subset.
func (p *parser) nextLine() (more, ok bool) {
	if p.le >= len(p.data) {
		return false, true
	}
	p.ls = p.le + 1
	p.line++
	if p.ls > len(p.data) {
		return false, true
	}
	if i := bytes.IndexByte(p.data[p.ls:], '\n'); i >= 0 {
		p.le = p.ls + i
	} else {
		p.le = len(p.data)
	}
	p.pos = p.ls
	p.ascii = true
	p.colPos, p.colN = p.ls, 0
	for i := p.ls; i < p.le; {
		b := p.data[i]
		if b < utf8.RuneSelf {
			if b < 0x20 || b == 0x7f {
				return false, false // tab, carriage return, control character
			}
			i++
			continue
		}
		p.ascii = false
		r, n := utf8.DecodeRune(p.data[i:p.le])
		if !printable(r) || n == 1 {
			return false, false
		}
		i += n
	}
	return true, true
}

// printable reports whether r is a character yaml.v3 reads as an ordinary
// one: not a control character, a line break (NEL, LS, PS) or a BOM.
func printable(r rune) bool {
	switch {
	case r >= 0xa0 && r <= 0xd7ff:
		return r != 0x2028 && r != 0x2029
	case r >= 0xe000 && r <= 0xfffd:
		return r != 0xfeff
	case r >= 0x10000 && r <= 0x10ffff:
		return true
	}
	return false
}

// nextContent moves to the first character of the next line that holds
// more than blanks and a comment, setting ind, or sets eof.
func (p *parser) nextContent() bool {
	for {
		more, ok := p.nextLine()
		if !ok {
			return false
		}
		if !more {
			p.eof = true
			return true
		}
		p.skipSpaces()
		if p.pos == p.le || p.data[p.pos] == '#' {
			continue
		}
		p.ind = p.pos - p.ls
		if p.ind == 0 && (p.marker("---") || p.marker("...")) && !p.docStart {
			return false // another document
		}
		return true
	}
}

// marker reports whether the line starts with the document marker m.
func (p *parser) marker(m string) bool {
	return p.pos == p.ls && bytes.HasPrefix(p.data[p.pos:p.le], []byte(m)) && p.blankAt(p.pos+3)
}

// endLine accepts the rest of the line if it is blank or a comment, and
// moves to the next content line.
func (p *parser) endLine() bool {
	p.skipSpaces()
	if p.pos < p.le && (p.data[p.pos] != '#' || p.data[p.pos-1] != ' ') {
		return false
	}
	return p.nextContent()
}

func (p *parser) skipSpaces() {
	for p.pos < p.le && p.data[p.pos] == ' ' {
		p.pos++
	}
}

// blankAt reports whether position i is a space or the end of the line.
func (p *parser) blankAt(i int) bool { return i >= p.le || p.data[i] == ' ' }

// col is the 1-based column of pos, in characters as yaml.v3 counts them.
func (p *parser) col() int {
	if p.ascii {
		return p.pos - p.ls + 1
	}
	if p.pos < p.colPos {
		p.colPos, p.colN = p.ls, 0
	}
	p.colN += utf8.RuneCount(p.data[p.colPos:p.pos])
	p.counted += p.pos - p.colPos
	p.colPos = p.pos
	return p.colN + 1
}

func (p *parser) node(kind yaml.Kind, tag string, line, col int) *yaml.Node {
	n := p.a.Node()
	*n = yaml.Node{Kind: kind, Tag: tag, Line: line, Column: col}
	return n
}

// children pops the nodes pushed since base into a slice of their own.
func (p *parser) children(base int) []*yaml.Node {
	n := len(p.stack) - base
	if n == 0 {
		return nil
	}
	c := p.a.Ptrs(n)
	copy(c, p.stack[base:])
	clear(p.stack[base:])
	p.stack = p.stack[:base]
	return c
}

func (p *parser) enter() bool {
	p.depth++
	return p.depth <= maxDepth
}

// block parses the block node at pos, which is at (0-based) column c: a
// mapping, a sequence, a flow collection or a scalar. It leaves pos at the
// next content line.
func (p *parser) block(c int) *yaml.Node {
	defer func() { p.depth-- }()
	if !p.enter() {
		return nil
	}
	switch b := p.data[p.pos]; {
	case b == '-' && p.blankAt(p.pos+1):
		return p.sequence(c)
	case b == '[' || b == '{':
		n := p.flow()
		if n == nil || !p.endLine() {
			return nil
		}
		return n
	}
	start := p.pos
	n := p.scalar(false, false)
	if n == nil {
		return nil
	}
	p.skipSpaces()
	if p.pos < p.le && p.data[p.pos] == ':' && p.blankAt(p.pos+1) {
		if p.pos-start > maxKey {
			return nil
		}
		return p.mapping(c, n)
	}
	if !p.endLine() {
		return nil
	}
	return n
}

// mapping parses a block mapping at column c whose first key, k, has been
// read; pos is at the ':' after it.
func (p *parser) mapping(c int, k *yaml.Node) *yaml.Node {
	m := p.node(yaml.MappingNode, "!!map", k.Line, k.Column)
	base := len(p.stack)
	for {
		p.pos++ // the ':'
		p.skipSpaces()
		var v *yaml.Node
		if p.pos == p.le || p.data[p.pos] == '#' {
			// The value starts on a later line, or is empty (declined).
			if !p.endLine() || p.eof || p.ind < c {
				return nil
			}
			switch {
			case p.ind > c:
				v = p.block(p.ind)
			case p.data[p.pos] == '-' && p.blankAt(p.pos+1):
				v = p.indentless(c)
			}
		} else {
			v = p.inline()
			if v != nil && !p.endLine() {
				return nil
			}
		}
		if v == nil {
			return nil
		}
		p.stack = append(p.stack, k, v)
		if p.eof || p.ind < c {
			break
		}
		if p.ind > c {
			return nil // a scalar over several lines, or bad indentation
		}
		if k = p.key(); k == nil {
			return nil
		}
	}
	m.Content = p.children(base)
	return m
}

// indentless parses a sequence that is a mapping's value at the mapping's
// own column ("key:\n- a\n- b").
func (p *parser) indentless(c int) *yaml.Node {
	defer func() { p.depth-- }()
	if !p.enter() {
		return nil
	}
	return p.sequence(c)
}

// key reads the key of a block mapping's next pair, leaving pos at its ':'.
func (p *parser) key() *yaml.Node {
	start := p.pos
	k := p.scalar(false, true)
	if k == nil {
		return nil
	}
	p.skipSpaces()
	if p.pos == p.le || p.data[p.pos] != ':' || !p.blankAt(p.pos+1) || p.pos-start > maxKey {
		return nil
	}
	return k
}

// inline parses a mapping value on its key's line: a flow collection or a
// scalar that is not itself a key.
func (p *parser) inline() *yaml.Node {
	if b := p.data[p.pos]; b == '[' || b == '{' {
		return p.flow()
	}
	n := p.scalar(false, false)
	if n == nil {
		return nil
	}
	p.skipSpaces()
	if p.pos < p.le && p.data[p.pos] == ':' {
		return nil // "a: b: c"
	}
	return n
}

// sequence parses a block sequence whose first '-' is at pos, column c.
func (p *parser) sequence(c int) *yaml.Node {
	s := p.node(yaml.SequenceNode, "!!seq", p.line, p.col())
	base := len(p.stack)
	for {
		p.pos++ // the '-'
		p.skipSpaces()
		var it *yaml.Node
		if p.pos == p.le || p.data[p.pos] == '#' {
			if !p.endLine() || p.eof || p.ind <= c {
				return nil // an empty item
			}
			it = p.block(p.ind)
		} else {
			it = p.block(p.col() - 1)
		}
		if it == nil {
			return nil
		}
		p.stack = append(p.stack, it)
		if p.eof || p.ind < c {
			break
		}
		if p.ind > c {
			return nil
		}
		if p.data[p.pos] != '-' || !p.blankAt(p.pos+1) {
			break // the next key of the mapping this sequence is a value of
		}
	}
	s.Content = p.children(base)
	return s
}

// flow parses a flow mapping or sequence that ends on its line.
func (p *parser) flow() *yaml.Node {
	defer func() { p.depth-- }()
	if !p.enter() {
		return nil
	}
	isMap := p.data[p.pos] == '{'
	var n *yaml.Node
	end := byte(']')
	if isMap {
		n, end = p.node(yaml.MappingNode, "!!map", p.line, p.col()), '}'
	} else {
		n = p.node(yaml.SequenceNode, "!!seq", p.line, p.col())
	}
	n.Style = yaml.FlowStyle
	base := len(p.stack)
	p.pos++
	if !p.flowSpaces() {
		return nil
	}
	if p.data[p.pos] == end {
		p.pos++
		return n
	}
	for {
		var it *yaml.Node
		start := p.pos
		if b := p.data[p.pos]; b == '[' || b == '{' {
			if isMap {
				return nil // a collection as a key
			}
			it = p.flow()
		} else {
			it = p.scalar(true, isMap)
		}
		if it == nil || !p.flowSpaces() {
			return nil
		}
		if isMap {
			if p.data[p.pos] != ':' || !p.blankAt(p.pos+1) || p.pos-start > maxKey {
				return nil
			}
			p.pos++
			if !p.flowSpaces() {
				return nil
			}
			var v *yaml.Node
			switch p.data[p.pos] {
			case ',', '}':
				return nil // an empty value
			case '[', '{':
				v = p.flow()
			default:
				v = p.scalar(true, false)
			}
			if v == nil || !p.flowSpaces() {
				return nil
			}
			p.stack = append(p.stack, it, v)
		} else {
			if p.data[p.pos] == ':' {
				return nil // a pair in a sequence
			}
			p.stack = append(p.stack, it)
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			if !p.flowSpaces() || p.data[p.pos] == end {
				return nil // a trailing comma
			}
		case end:
			p.pos++
			n.Content = p.children(base)
			return n
		default:
			return nil
		}
	}
}

// flowSpaces skips spaces inside a flow collection, which must go on.
func (p *parser) flowSpaces() bool {
	p.skipSpaces()
	return p.pos < p.le && p.data[p.pos] != '#'
}

// scalar reads a scalar that ends on this line, which is a mapping key
// if key is set.
func (p *parser) scalar(flow, key bool) *yaml.Node {
	line, col := p.line, p.col()
	switch p.data[p.pos] {
	case '"':
		return p.doubleQuoted(line, col, key)
	case '\'':
		return p.singleQuoted(line, col, key)
	}
	start := p.pos
	if !p.plainStart() {
		return nil
	}
	end := start
	for p.pos < p.le {
		b := p.data[p.pos]
		if b == ' ' {
			j := p.pos
			for j < p.le && p.data[j] == ' ' {
				j++
			}
			if j == p.le || p.data[j] == '#' {
				break
			}
			p.pos = j
			continue
		}
		if b == ':' && p.blankAt(p.pos+1) {
			break
		}
		if flow {
			switch b {
			case ':':
				return nil // yaml.v3's rules for ':' in flow scalars differ
			case ',', '?', '[', ']', '{', '}':
				goto done
			}
		}
		p.pos++
		end = p.pos
	}
done:
	p.pos = end
	n := p.node(yaml.ScalarNode, "", line, col)
	n.Value = p.str(p.data[start:end], key)
	n.Tag = p.resolve(n.Value)
	return n
}

// str returns b as a string, shared with the same earlier key if key is
// set.
func (p *parser) str(b []byte, key bool) string {
	if !key {
		return string(b)
	}
	if s, ok := p.keys[string(b)]; ok {
		return s
	}
	s := string(b)
	if p.keys == nil {
		p.keys = make(map[string]string)
	}
	if len(p.keys) < maxKeys {
		p.keys[s] = s
	}
	return s
}

// plainStart reports whether a plain scalar may start at pos.
func (p *parser) plainStart() bool {
	switch p.data[p.pos] {
	case '-':
		if p.pos+1 >= p.le {
			return false
		}
		switch p.data[p.pos+1] {
		case ' ', ',', '[', ']', '{', '}', '#', ':', '?':
			return false
		}
		return true
	case '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	}
	return true
}

// resolve returns the tag yaml.v3 gives a plain scalar. Only values that
// start like a number, a boolean, a null or a float can be anything but a
// string; yaml.v3 itself resolves those.
func (p *parser) resolve(v string) string {
	switch v[0] {
	case '+', '-', '.', '~', 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O',
		'0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		p.tmp = yaml.Node{Kind: yaml.ScalarNode, Value: v}
		return p.tmp.ShortTag()
	case '<':
		if v == "<<" {
			return "!!merge"
		}
	}
	return "!!str"
}

// singleQuoted reads a single-quoted scalar; pos is at its quote.
func (p *parser) singleQuoted(line, col int, key bool) *yaml.Node {
	p.pos++
	start := p.pos
	var buf []byte
	for {
		i := bytes.IndexByte(p.data[p.pos:p.le], '\'')
		if i < 0 {
			return nil
		}
		p.pos += i + 1
		if p.pos < p.le && p.data[p.pos] == '\'' {
			buf = append(buf, p.data[start:p.pos]...)
			p.pos++
			start = p.pos
			continue
		}
		break
	}
	n := p.node(yaml.ScalarNode, "!!str", line, col)
	n.Style = yaml.SingleQuotedStyle
	if buf == nil {
		n.Value = p.str(p.data[start:p.pos-1], key)
	} else {
		n.Value = string(append(buf, p.data[start:p.pos-1]...))
	}
	return n
}

// doubleQuoted reads a double-quoted scalar; pos is at its quote.
func (p *parser) doubleQuoted(line, col int, key bool) *yaml.Node {
	p.pos++
	start := p.pos
	var buf []byte
	escaped := false
	for {
		if p.pos >= p.le {
			return nil
		}
		b := p.data[p.pos]
		if b == '"' {
			break
		}
		if b != '\\' {
			p.pos++
			continue
		}
		buf = append(buf, p.data[start:p.pos]...)
		escaped = true
		var ok bool
		if buf, ok = p.escape(buf); !ok {
			return nil
		}
		start = p.pos
	}
	n := p.node(yaml.ScalarNode, "!!str", line, col)
	n.Style = yaml.DoubleQuotedStyle
	if escaped {
		n.Value = string(append(buf, p.data[start:p.pos]...))
	} else {
		n.Value = p.str(p.data[start:p.pos], key)
	}
	p.pos++
	return n
}

// escape appends the character escaped at pos (a backslash) to buf.
func (p *parser) escape(buf []byte) ([]byte, bool) {
	if p.pos+1 >= p.le {
		return buf, false // a line continuation
	}
	c := p.data[p.pos+1]
	p.pos += 2
	digits := 0
	switch c {
	case '0':
		return append(buf, 0), true
	case 'a':
		return append(buf, '\a'), true
	case 'b':
		return append(buf, '\b'), true
	case 't':
		return append(buf, '\t'), true
	case 'n':
		return append(buf, '\n'), true
	case 'v':
		return append(buf, '\v'), true
	case 'f':
		return append(buf, '\f'), true
	case 'r':
		return append(buf, '\r'), true
	case 'e':
		return append(buf, 0x1b), true
	case ' ', '"', '\'', '\\':
		return append(buf, c), true
	case 'N':
		return utf8.AppendRune(buf, 0x85), true
	case '_':
		return utf8.AppendRune(buf, 0xa0), true
	case 'L':
		return utf8.AppendRune(buf, 0x2028), true
	case 'P':
		return utf8.AppendRune(buf, 0x2029), true
	case 'x':
		digits = 2
	case 'u':
		digits = 4
	case 'U':
		digits = 8
	default:
		return buf, false
	}
	if p.pos+digits > p.le {
		return buf, false
	}
	var r int64 // eight hex digits overflow a rune
	for _, h := range p.data[p.pos : p.pos+digits] {
		switch {
		case h >= '0' && h <= '9':
			r = r<<4 | int64(h-'0')
		case h >= 'a' && h <= 'f':
			r = r<<4 | int64(h-'a'+10)
		case h >= 'A' && h <= 'F':
			r = r<<4 | int64(h-'A'+10)
		default:
			return buf, false
		}
	}
	p.pos += digits
	if (r >= 0xd800 && r <= 0xdfff) || r > 0x10ffff {
		return buf, false
	}
	return utf8.AppendRune(buf, rune(r)), true
}
