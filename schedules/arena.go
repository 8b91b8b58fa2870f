package schedules

import "go.yaml.in/yaml/v3"

// scratch is what one worker reuses from file to file: the yaml.Node
// trees flowTree builds and the walker's drafts. Nothing of a file's tree
// or drafts outlives loadFile (schedules, accounts and diagnostics copy
// what they keep), so each file takes them back with reset instead of
// allocating afresh; a million schedules would otherwise allocate some
// 2 GB that the collector then has to chase.
type scratch struct {
	nodes  arena[yaml.Node]
	ptrs   arena[*yaml.Node]
	drafts arena[scheduleDraft]
}

func newScratch() *scratch {
	return &scratch{nodes: arena[yaml.Node]{size: 1024}, ptrs: arena[*yaml.Node]{size: 2048},
		drafts: arena[scheduleDraft]{size: 256}}
}

func (s *scratch) reset() {
	s.nodes.reset()
	s.ptrs.reset()
	s.drafts.reset()
}

// arena hands out zeroed runs of T from chunks it keeps until reset, which
// takes every run back at once. Everything past the run last handed out is
// zero: reset clears what was used, in one call per chunk rather than one
// per value.
type arena[T any] struct {
	size   int // the usual chunk length
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
	for k := range min(a.i, len(a.chunks)) {
		clear(a.chunks[k])
	}
	if a.i < len(a.chunks) {
		clear(a.chunks[a.i][:a.used])
	}
	a.i, a.used = 0, 0
}
