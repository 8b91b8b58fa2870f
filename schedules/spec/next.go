package spec

import "time"

// walls is a source of a spec's matching wall times (naive seconds) in
// increasing order: the part of a planner that knows the calendar rule and
// nothing about zones.
type walls interface {
	// atLeast returns the first matching wall time >= w, or false if there
	// is none up to year 9999. Within one Next call w never decreases, so a
	// source may keep iteration state.
	atLeast(w int64) (int64, bool)
}

// clampAfter turns Next's argument into b, the first whole unix second a
// fire may have (fires are whole seconds and must be strictly after t), and
// reports false when b is past the planning range. Times before year 0 are
// raised to just before it: nothing can fire there anyway, and it keeps the
// offset arithmetic inside int64.
func clampAfter(t time.Time) (int64, bool) {
	b := t.Unix() + 1
	switch {
	case b > maxNaive+maxOffset:
		return 0, false
	case b < minNaive-maxOffset:
		b = minNaive - maxOffset
	}
	return b, true
}

// nextInstant returns the minimum instant in [b, end) that some matching
// wall time of src resolves to in loc.
//
// Resolve is monotonic in wall time except inside gaps: a gap wall time w
// (gap [T+o1, T+o2) in wall time, o1 < o2) maps to w - o1, which is the
// same instant as the real wall time w + (o2 - o1) after the gap, and so
// later than real wall times just after the gap. Hence three candidates
// suffice, each found with one atLeast call:
//
//	A. if b lies within g = o2-o1 after a spring-forward at S, the first
//	   gap wall time whose instant is >= b (wall >= b + o1, < S + o2);
//	B. the first wall time >= wb, the smallest real wall time whose
//	   instant is >= b (b + offset, or the end of the repeated hour when b
//	   is a second occurrence of its wall time after a fall-back);
//	C. if B's wall time is itself in a later gap, the first wall time at
//	   or after that gap's end, which may map earlier than B.
//
// The answer is the smallest of them; duplicates (a gap time and its real
// twin) collapse because only the minimum instant is returned.
func nextInstant(src walls, loc *time.Location, b, end int64) (int64, bool) {
	if b >= end {
		return 0, false
	}
	p := periodAt(loc, b)
	best, found := int64(maxInstant), false

	// A: gap wall times of a spring-forward that happened just before b.
	if p.prevOff < p.off && b-p.start < p.off-p.prevOff {
		if w, ok := src.atLeast(b + p.prevOff); ok && w < p.start+p.off {
			best, found = w-p.prevOff, true
		}
	}

	// B: real wall times from wb on map monotonically to instants >= b.
	wb := b + p.off
	secondPass := p.prevOff > p.off && b-p.start < p.prevOff-p.off
	if secondPass {
		wb = p.start + p.prevOff // b's own wall time was already used
	}
	w, ok := src.atLeast(wb)
	for range 8 {
		if !ok {
			break
		}
		var r, gapEnd int64
		var gap bool
		if i := w - p.off; i >= p.start && i < p.end && !(p.prevOff > p.off && w < p.start+p.prevOff) {
			r = i // same period as b, and not a wall time that also occurred before it
		} else {
			r, gapEnd, gap = resolveNaive(w, loc)
		}
		if r >= b && r < best {
			best, found = r, true
		}
		if gap {
			// C: the real wall times right after the gap map below r.
			w, ok = src.atLeast(gapEnd)
		} else if r < b {
			// Cannot happen with wb chosen as above; a zone with two
			// transitions within hours of each other would get here, and
			// scanning on is still correct.
			w, ok = src.atLeast(w + 1)
		} else {
			break
		}
	}
	if !found || best >= end {
		return 0, false
	}
	return best, true
}
