package spec

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

var fuzzZones = []string{"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Chatham", "America/Santiago", "Pacific/Apia"}

func fuzzLocs(f *testing.F) []*time.Location {
	var locs []*time.Location
	for _, z := range fuzzZones {
		locs = append(locs, mustLoc(f, z))
	}
	return locs
}

// fuzzWindow makes a window from two numbers; 0 is an open bound.
func fuzzWindow(ws, we int64) Window {
	var w Window
	clamp := func(n int64) Civil { return civilOfNaive(min(max(n, minNaive), maxNaive)) }
	if ws != 0 {
		w.Start = clamp(ws)
	}
	if we != 0 {
		w.End = clamp(we)
	}
	return w
}

// checkNext asserts the invariants every compiled spec keeps: Next is
// strictly after its argument, inside the window, reported in the spec's
// zone, and nothing fires in between (asking from the midpoint gives the
// same answer).
func checkNext(t *testing.T, s Spec, loc *time.Location, w Window, from time.Time) {
	n, ok := s.Next(from)
	if !ok {
		return
	}
	if !n.After(from) {
		t.Fatalf("Next(%s) = %s, not after", from, n)
	}
	if !w.Contains(n, loc) {
		t.Fatalf("Next(%s) = %s, outside window %+v", from, n, w)
	}
	if n.Location() != s.Location() {
		t.Fatalf("Next in %s, spec location %s", n.Location(), s.Location())
	}
	if mid := from.Add(n.Sub(from) / 2); mid.Before(n) && !mid.Before(from) {
		if m, ok := s.Next(mid); !ok || !m.Equal(n) {
			t.Fatalf("Next(%s) = %s but Next(%s) = %s, %v", from, n, mid, m, ok)
		}
	}
	if n2, ok := s.Next(n); ok && !n2.After(n) {
		t.Fatalf("Next(%s) = %s, not after", n, n2)
	}
}

func FuzzCron(f *testing.F) {
	locs := fuzzLocs(f)
	f.Add("30 2 * * *", uint8(1), int64(1772884800), int64(0), int64(0))
	f.Add("*/30 * * * *", uint8(1), int64(1772950000), int64(0), int64(0))
	f.Add("0 0 */2 * MON", uint8(0), int64(1780000000), int64(1780000000), int64(1790000000))
	f.Fuzz(func(t *testing.T, expr string, zone uint8, from, ws, we int64) {
		loc := locs[int(zone)%len(locs)]
		w := fuzzWindow(ws, we)
		s, err := Cron(expr, loc, w)
		if err != nil {
			if !errors.Is(err, ErrInvalidCron) && !errors.Is(err, ErrInvalidWindow) || err.Error() == "" {
				t.Fatalf("Cron(%q): unexpected error %v", expr, err)
			}
			return
		}
		checkNext(t, s, loc, w, time.Unix(from, from&0x3fffffff))
	})
}

func FuzzRRule(f *testing.F) {
	locs := fuzzLocs(f)
	f.Add("FREQ=DAILY", int64(1772764200), uint8(1), int64(1772884800), int64(0))
	f.Add("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", int64(1672531200), uint8(2), int64(1772884800), int64(0))
	f.Add("FREQ=HOURLY;COUNT=5", int64(1772928000), uint8(1), int64(1772900000), int64(1773000000))
	f.Fuzz(func(t *testing.T, rule string, start int64, zone uint8, from, we int64) {
		loc := locs[int(zone)%len(locs)]
		// Starts between 1900 and 2200 keep plain iteration affordable.
		lo, hi := daysFromCivil(1900, 1, 1)*secsPerDay, daysFromCivil(2200, 1, 1)*secsPerDay
		st := civilOfNaive(lo + floorMod(start, hi-lo))
		w := fuzzWindow(0, we)
		s, err := RRule(rule, st, loc, w)
		if err != nil {
			if !errors.Is(err, ErrInvalidRRule) && !errors.Is(err, ErrInvalidWindow) || err.Error() == "" {
				t.Fatalf("RRule(%q): unexpected error %v", rule, err)
			}
			return
		}
		checkNext(t, s, loc, w, time.Unix(from, from&0x3fffffff))
	})
}

// FuzzRRuleGenerated drives the same invariants with well-formed random
// rules (the property-test generator, seeded by the fuzzer), which random
// strings rarely produce, in DST zones and near transitions.
func FuzzRRuleGenerated(f *testing.F) {
	locs := fuzzLocs(f)
	f.Add(uint64(1), int64(1772764200), uint8(1), int64(1772884800), int64(0))
	f.Add(uint64(2), int64(1672531200), uint8(6), int64(1788710000), int64(1799999999))
	f.Fuzz(func(t *testing.T, seed uint64, start int64, zone uint8, from, we int64) {
		rule := randomRRule(rand.New(rand.NewPCG(seed, 0)))
		loc := locs[int(zone)%len(locs)]
		lo, hi := daysFromCivil(1970, 1, 1)*secsPerDay, daysFromCivil(2100, 1, 1)*secsPerDay
		st := civilOfNaive(lo + floorMod(start, hi-lo))
		w := fuzzWindow(0, we)
		s, err := RRule(rule, st, loc, w)
		if err != nil {
			if !errors.Is(err, ErrInvalidRRule) && !errors.Is(err, ErrInvalidWindow) {
				t.Fatalf("RRule(%q): unexpected error %v", rule, err)
			}
			return
		}
		// Ask near the start so the answer is in the interesting range.
		at := time.Unix(st.naive()+floorMod(from, 3*366*secsPerDay)-secsPerDay, 0)
		checkNext(t, s, loc, w, at)
	})
}
