package schedules

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits on hostile input. yaml.v3 itself rejects documents nested more than
// 10,000 levels and never expands aliases when it builds a yaml.Node tree;
// the walker below adds a tighter depth limit (the format needs 8 levels)
// and expands aliases against a budget.
const (
	// maxDepth bounds nesting; anything deeper is not Herald's format.
	maxDepth = 32
	// Aliases may make the walker visit at most aliasBase + aliasFactor ×
	// (the nodes in the file) nodes through aliases. Ordinary use (a
	// `<<: *defaults` in every schedule) stays far below; a "billion
	// laughs" document fails after a few thousand steps instead of
	// expanding.
	aliasBase   = 10000
	aliasFactor = 4
	// maxFileDiagnostics bounds the problems kept for one file; beyond it
	// they are only counted. Nobody reads a thousand lines, and a hostile
	// file (a mapping of 100,000 unknown keys) must not cost seconds of
	// message formatting.
	maxFileDiagnostics = 1000
)

// walker decodes one file's yaml.Node trees strictly, collecting a
// Diagnostic for every problem. After a fatal problem (the alias budget is
// spent) it stops: every method then returns at once.
type walker struct {
	file    string
	diags   []Diagnostic
	budget  int
	sizes   map[*yaml.Node]int // subtree sizes of anchored nodes
	merging []*yaml.Node       // mappings being merged, to catch cycles
	fatal   bool
	dropped int // problems past maxFileDiagnostics
	// warns are the file's warnings (see Config.Warnings), bounded as
	// diags are; warnsDropped counts those past the bound.
	warns        []Diagnostic
	warnsDropped int
	// warnMsgs interns warning messages: a generated file may repeat one
	// in hundreds of schedules, and each is some 200 bytes.
	warnMsgs map[string]string

	env       *loadEnv
	fc        fileRef
	hashBuf   []byte        // reused by scheduleHash
	firstFire firstFireMemo // see sample
	// texts is reused by postContent for each schedule's texts.
	texts []postTemplate
	// sampleData is the RenderData of the sample run (see sample), kept
	// here so that each schedule does not allocate one.
	sampleData RenderData

	// mediaDeps lists each media file looked at, once, with what was
	// seen: the decode depends on it (see Loader).
	mediaDeps []mediaDep
	mediaSeen map[mediaKey]struct{}
}

// path names a place in the configuration: item is the schedule or account
// ("schedules[3]", "accounts.brand") and rel the field inside it
// ("post.media[0].path"). Messages start with rel, or with noun for the item
// itself ("schedule"), never with the item's index: the line number already
// says which item, and a problem inside YAML anchor defaults shared by many
// schedules then reads the same for each and is reported once.
// Diagnostic.Field is the full path.
//
// A schedule's item is kept as "schedules" and its index (n, the index
// plus one; 0 for none), and a message builds "schedules[3]" only when it
// needs it: every schedule has a path, few have a problem.
type path struct {
	item      string
	n         int
	rel, noun string
}

func (p path) child(name string) path {
	if p.rel == "" {
		return p.sub(name)
	}
	return p.sub(p.rel + "." + name)
}

// sub returns the path of the field rel (a full relative path such as
// "post.text") of p's item.
func (p path) sub(rel string) path { return path{p.item, p.n, rel, p.noun} }

func (p path) index(i int) path { return p.sub(p.rel + "[" + itoa(i) + "]") }

// itemName is the item as Diagnostic.Field shows it: schedules[3].
func (p path) itemName() string {
	if p.n == 0 {
		return p.item
	}
	return p.item + "[" + itoa(p.n-1) + "]"
}

func (p path) field() string {
	switch {
	case p.item == "":
		return p.rel
	case p.rel == "":
		return p.itemName()
	}
	return p.itemName() + "." + p.rel
}

func (p path) label() string {
	switch {
	case p.rel != "":
		return p.rel
	case p.noun != "":
		return p.noun
	}
	return p.itemName()
}

// full reports whether the file has all the diagnostics it may keep; the
// problem about to be reported is then counted instead.
func (w *walker) full() bool {
	if len(w.diags) < maxFileDiagnostics {
		return false
	}
	w.dropped++
	return true
}

// errf records a problem at node n.
func (w *walker) errf(n *yaml.Node, p path, format string, args ...any) {
	if w.full() {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if l := p.label(); l != "" {
		msg = l + ": " + msg
	}
	d := Diagnostic{File: w.file, Field: p.field(), Message: msg}
	if n != nil {
		d.Line, d.Col = n.Line, n.Column
	}
	w.diags = append(w.diags, d)
}

// warnf records a warning at node n: something that loads but will
// probably fail at run time (see Config.Warnings).
func (w *walker) warnf(n *yaml.Node, p path, format string, args ...any) {
	if len(w.warns) >= maxFileDiagnostics {
		w.warnsDropped++
		return
	}
	msg := fmt.Sprintf(format, args...)
	if l := p.label(); l != "" {
		msg = l + ": " + msg
	}
	if m, ok := w.warnMsgs[msg]; ok {
		msg = m
	} else {
		if w.warnMsgs == nil {
			w.warnMsgs = make(map[string]string)
		}
		w.warnMsgs[msg] = msg
	}
	d := Diagnostic{File: w.file, Field: p.field(), Message: msg, Warning: true}
	if n != nil {
		d.Line, d.Col = n.Line, n.Column
	}
	w.warns = append(w.warns, d)
}

// prepare measures a parsed document without recursion: it rejects nesting
// deeper than maxDepth, counts the nodes to size the alias budget, and
// records the subtree size of every anchored node, which is what following
// an alias to it costs. It reports false when the document is rejected.
func (w *walker) prepare(doc *yaml.Node) bool {
	type frame struct {
		n    *yaml.Node
		next int // next child to visit
		size int
	}
	stack := []frame{{n: doc, size: 1}}
	nodes := 0
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next < len(top.n.Content) {
			c := top.n.Content[top.next]
			top.next++
			if len(stack) >= maxDepth {
				w.errf(c, path{}, "nesting deeper than %d levels; Herald's format needs fewer than 10", maxDepth)
				return false
			}
			stack = append(stack, frame{n: c, size: 1})
			continue
		}
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nodes++
		if f.n.Anchor != "" {
			if w.sizes == nil {
				w.sizes = make(map[*yaml.Node]int)
			}
			w.sizes[f.n] = f.size
		}
		if len(stack) > 0 {
			stack[len(stack)-1].size += f.size
		}
	}
	w.budget += aliasBase + aliasFactor*nodes
	return true
}

// deref follows an alias, charging its expansion to the budget. It returns
// nil once the budget is spent.
func (w *walker) deref(n *yaml.Node) *yaml.Node {
	if w.fatal {
		return nil
	}
	if n.Kind != yaml.AliasNode {
		return n
	}
	w.budget -= max(1, w.sizes[n.Alias])
	if w.budget < 0 {
		w.fatal = true
		w.diags = append(w.diags, Diagnostic{File: w.file, Line: n.Line, Col: n.Column, Message: fmt.Sprintf(
			"aliases expand to too many nodes (more than %d + %d per node of the file); "+
				"the file is rejected as a \"billion laughs\" document", aliasBase, aliasFactor)})
		return nil
	}
	return n.Alias
}

// mapping walks the pairs of mapping n (following an alias) and calls fn with
// each accepted key and its value (aliases followed). Keys must be unique
// strings and, when known is not nil, one of known. Merge keys (<<: *x or
// <<: [*x, *y]) are resolved as YAML 1.1 defines them: explicit keys win over
// merged ones, earlier merge sources over later ones. It reports whether n
// was a mapping.
func (w *walker) mapping(n *yaml.Node, p path, known []string, fn func(key string, k, v *yaml.Node)) bool {
	if n = w.deref(n); n == nil {
		return false
	}
	if n.Kind != yaml.MappingNode {
		w.errf(n, p, "must be a mapping, got %s", describe(n))
		return false
	}
	var seen keySet
	w.pairs(n, p, known, &seen, true, fn)
	return !w.fatal
}

func (w *walker) pairs(n *yaml.Node, p path, known []string, seen *keySet, explicit bool, fn func(string, *yaml.Node, *yaml.Node)) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content) && !w.fatal; i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
			w.errf(k, p, "keys must be strings, got %s", describe(k))
			continue
		}
		if first := seen.find(k.Value); first != nil {
			if explicit {
				w.errf(k, p, "duplicate key %q (first at line %d)", k.Value, first.Line)
			}
			continue
		}
		seen.add(k)
		if known != nil && !contains(known, k.Value) {
			w.unknownField(k, p, known)
			continue
		}
		if v = w.deref(v); v != nil {
			fn(k.Value, k, v)
		}
	}
	for _, m := range merges {
		w.merge(m, p, known, seen, fn)
	}
}

// merge resolves the value of a merge key.
func (w *walker) merge(v *yaml.Node, p path, known []string, seen *keySet, fn func(string, *yaml.Node, *yaml.Node)) {
	if v = w.deref(v); v == nil {
		return
	}
	sources := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		sources = v.Content
	}
	for _, m := range sources {
		if m = w.deref(m); m == nil {
			return
		}
		if m.Kind != yaml.MappingNode {
			w.errf(m, p, "<< (merge) needs a mapping or a list of mappings, got %s", describe(m))
			continue
		}
		if containsNode(w.merging, m) {
			w.errf(m, p, "<< (merge) of a mapping into itself")
			continue
		}
		w.merging = append(w.merging, m)
		w.pairs(m, p, known, seen, false, fn)
		w.merging = w.merging[:len(w.merging)-1]
	}
}

// sequence returns the items of sequence n, aliases followed; nil items
// mean the budget ran out.
func (w *walker) sequence(n *yaml.Node, p path) ([]*yaml.Node, bool) {
	if n = w.deref(n); n == nil {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		w.errf(n, p, "must be a list, got %s", describe(n))
		return nil, false
	}
	items := make([]*yaml.Node, 0, len(n.Content))
	for _, it := range n.Content {
		if it = w.deref(it); it == nil {
			return nil, false
		}
		items = append(items, it)
	}
	return items, true
}

func (w *walker) unknownField(k *yaml.Node, p path, known []string) {
	if w.full() {
		return
	}
	if s := suggest(k.Value, known); s != "" {
		w.errf(k, p, "unknown field %q (did you mean %q?)", k.Value, s)
		return
	}
	w.errf(k, p, "unknown field %q (known: %s)", k.Value, strings.Join(known, ", "))
}

// keySet holds the keys of one mapping: an array in the keySet itself
// while small (every schedule; the keySet lives on mapping's stack, so a
// schedule's keys cost no allocation), a map when a hostile or huge
// mapping would make scans quadratic.
type keySet struct {
	small [32]*yaml.Node
	n     int // keys in small
	m     map[string]*yaml.Node
}

func (s *keySet) find(name string) *yaml.Node {
	if s.m != nil {
		return s.m[name]
	}
	for _, k := range s.small[:s.n] {
		if k.Value == name {
			return k
		}
	}
	return nil
}

func (s *keySet) add(k *yaml.Node) {
	if s.m == nil && s.n < len(s.small) {
		s.small[s.n] = k
		s.n++
		return
	}
	if s.m == nil {
		s.m = make(map[string]*yaml.Node, 64)
		for _, x := range s.small[:s.n] {
			s.m[x.Value] = x
		}
		s.small, s.n = [len(s.small)]*yaml.Node{}, 0
	}
	s.m[k.Value] = k
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsNode(list []*yaml.Node, n *yaml.Node) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}
