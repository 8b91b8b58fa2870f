package schedules

import "testing"

// TestArena checks that runs are zeroed, do not overlap, and are handed
// out again after reset.
func TestArena(t *testing.T) {
	a := arena[int]{size: 4}
	var runs [][]int
	for round := range 2 {
		runs = runs[:0]
		for _, n := range []int{1, 3, 2, 9, 1, 4} {
			s := a.slice(n)
			if len(s) != n || cap(s) != n {
				t.Fatalf("slice(%d): len %d cap %d", n, len(s), cap(s))
			}
			for i := range s {
				if s[i] != 0 {
					t.Fatalf("round %d: slice(%d)[%d] = %d, not zeroed", round, n, i, s[i])
				}
				s[i] = n
			}
			runs = append(runs, s)
		}
		for _, s := range runs {
			for i := range s {
				if s[i] != len(s) {
					t.Fatalf("round %d: a run of %d was overwritten: %v", round, len(s), s)
				}
			}
		}
		a.reset()
	}
	if p := a.new(); *p != 0 {
		t.Fatalf("new after reset = %d", *p)
	}
}
