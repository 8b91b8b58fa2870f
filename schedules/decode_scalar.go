package schedules

import (
	"fmt"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// str returns the value of a string scalar.
func (w *walker) str(n *yaml.Node, p path) (string, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		return n.Value, true
	}
	w.errf(n, p, "must be a string, got %s", describe(n))
	return "", false
}

// text returns the raw text of a scalar that may be a string or a YAML
// timestamp/number, such as start: 2026-01-05T10:00:00 or jitter: 0. The
// raw Value is used, never yaml's decoding of it, which would lose the
// distinction between a local wall time and UTC.
func (w *walker) text(n *yaml.Node, p path, what string, tags ...string) (string, bool) {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!str" || contains(tags, n.Tag)) {
		return n.Value, true
	}
	w.errf(n, p, "must be %s, got %s", what, describe(n))
	return "", false
}

func (w *walker) boolean(n *yaml.Node, p path) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		switch n.Value {
		case "true", "True", "TRUE":
			return true, true
		case "false", "False", "FALSE":
			return false, true
		}
	}
	w.errf(n, p, "must be a boolean (true or false), got %s", describe(n))
	return false, false
}

// describe names the YAML type of n and, for a short scalar, its value.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.Tag {
	case "!!str":
		return "string " + quoteShort(n.Value)
	case "!!int":
		return "integer " + cut(n.Value)
	case "!!float":
		return "number " + cut(n.Value)
	case "!!bool":
		return "boolean " + cut(n.Value)
	case "!!null":
		return "null"
	case "!!timestamp":
		return "timestamp " + cut(n.Value)
	case "!!merge":
		return "a merge key (<<)"
	}
	return "a value tagged " + quoteShort(n.Tag)
}

// cut shortens an unquoted value for a message.
func cut(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		return string([]rune(s)[:40]) + "…"
	}
	return s
}

// quoteShort quotes s, cut to 40 characters so that a message stays one
// readable line.
func quoteShort(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		r := []rune(s)
		return fmt.Sprintf("%q…", string(r[:40]))
	}
	return fmt.Sprintf("%q", s)
}
