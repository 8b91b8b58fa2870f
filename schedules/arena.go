package schedules

import "go.yaml.in/yaml/v3"

// scratch is what one worker reuses from file to file: the walker's drafts
// and the nodes of the YAML trees yamlfast builds. Nothing of a file's
// drafts or nodes outlives loadFile (schedules, accounts and diagnostics
// copy what they keep), so each file takes them back with reset instead of
// allocating afresh.
type scratch struct {
	drafts arena[scheduleDraft]
	nodes  arena[yaml.Node]
	ptrs   arena[*yaml.Node]
}

func newScratch() *scratch {
	return &scratch{
		drafts: arena[scheduleDraft]{size: 256},
		nodes:  arena[yaml.Node]{size: 1024, dirty: true},
		ptrs:   arena[*yaml.Node]{size: 4096, dirty: true},
	}
}

func (s *scratch) reset() {
	s.drafts.reset()
	s.nodes.reset()
	s.ptrs.reset()
}

// Node and Ptrs make scratch the yamlfast.Alloc of its worker's files;
// their arenas are dirty, as yamlfast.Alloc allows.
func (s *scratch) Node() *yaml.Node        { return s.nodes.new() }
func (s *scratch) Ptrs(n int) []*yaml.Node { return s.ptrs.slice(n) }

// arena hands out zeroed runs of T (unless it is dirty) from chunks it
// keeps until reset, which takes every run back at once. Everything past
// the run last handed out is zero: reset clears what was used, in one call
// per chunk rather than one per value.
type arena[T any] struct {
	size int // the usual chunk length
	// dirty arenas hand values out as the last user left them, and reset
	// does not clear them: their users overwrite every value whole.
	// yamlfast's nodes are such (clearing them cost a twentieth of a
	// Load's CPU).
	dirty  bool
	chunks [][]T
	i      int // the chunk in use
	used   int // its values handed out
}

// slice returns n zeroed values, contiguous, valid until reset.
func (a *arena[T]) slice(n int) []T {
	for {
		if a.i == len(a.chunks) {
			a.chunks = append(a.chunks, make([]T, max(a.size, n)))
		}
		c := a.chunks[a.i]
		if len(c)-a.used >= n {
			s := c[a.used : a.used+n : a.used+n]
			a.used += n
			return s
		}
		if len(c) < n {
			a.chunks[a.i] = make([]T, max(a.size, n))
			a.used = 0
			continue
		}
		a.i, a.used = a.i+1, 0
	}
}

// new returns one zeroed value, valid until reset.
func (a *arena[T]) new() *T { return &a.slice(1)[0] }

func (a *arena[T]) reset() {
	if a.dirty {
		a.i, a.used = 0, 0
		return
	}
	for k := range min(a.i, len(a.chunks)) {
		clear(a.chunks[k])
	}
	if a.i < len(a.chunks) {
		clear(a.chunks[a.i][:a.used])
	}
	a.i, a.used = 0, 0
}
