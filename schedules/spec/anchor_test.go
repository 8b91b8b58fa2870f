package spec

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teambition/rrule-go"
)

// randomRRule builds a random RFC 5545 rule, mostly valid, covering the
// parts that interact with re-anchoring: INTERVAL, WKST, BYSETPOS,
// ordinals, negative month days, week numbers, year days. Lists hold
// distinct values (repeats are dropped at compile, which rrule-go does not
// do; TestRRuleRepeatedValues covers them).
func randomRRule(r *rand.Rand) string {
	freqs := []string{"YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY"}
	fi := r.IntN(len(freqs))
	if r.IntN(3) > 0 {
		fi = r.IntN(4) // favour the calendar frequencies
	}
	parts := []string{"FREQ=" + freqs[fi]}
	if r.IntN(2) == 0 {
		parts = append(parts, fmt.Sprintf("INTERVAL=%d", 1+r.IntN([]int{6, 13}[r.IntN(2)])))
	}
	days := []string{"MO", "TU", "WE", "TH", "FR", "SA", "SU"}
	if r.IntN(3) == 0 {
		parts = append(parts, "WKST="+days[r.IntN(7)])
	}
	list := func(n, lo, hi int, neg bool) string {
		var v []string
		for range 1 + r.IntN(n) {
			x := lo + r.IntN(hi-lo+1)
			if neg && r.IntN(3) == 0 {
				x = -x
			}
			if !slices.Contains(v, fmt.Sprint(x)) {
				v = append(v, fmt.Sprint(x))
			}
		}
		return strings.Join(v, ",")
	}
	if r.IntN(4) == 0 {
		parts = append(parts, "BYMONTH="+list(4, 1, 12, false))
	}
	if fi != 2 && r.IntN(3) == 0 {
		parts = append(parts, "BYMONTHDAY="+list(3, 1, 31, true))
	}
	if fi == 0 && r.IntN(5) == 0 {
		parts = append(parts, "BYWEEKNO="+list(3, 1, 53, true))
	}
	if (fi == 0 || fi >= 4) && r.IntN(6) == 0 {
		parts = append(parts, "BYYEARDAY="+list(3, 1, 366, true))
	}
	if r.IntN(2) == 0 {
		var v []string
		for range 1 + r.IntN(3) {
			d := days[r.IntN(7)]
			if (fi == 1 || fi == 0) && r.IntN(2) == 0 && !strings.Contains(strings.Join(parts, ";"), "BYWEEKNO") {
				d = fmt.Sprint([]int{1, 2, 3, 4, -1, -2}[r.IntN(6)]) + d
			}
			if !slices.Contains(v, d) {
				v = append(v, d)
			}
		}
		parts = append(parts, "BYDAY="+strings.Join(v, ","))
	}
	if r.IntN(3) == 0 {
		parts = append(parts, "BYHOUR="+list(3, 0, 23, false))
	}
	if r.IntN(3) == 0 {
		parts = append(parts, "BYMINUTE="+list(2, 0, 59, false))
	}
	if fi >= 5 && r.IntN(2) == 0 {
		parts = append(parts, "BYSECOND="+list(2, 0, 59, false))
	}
	if r.IntN(4) == 0 {
		parts = append(parts, "BYSETPOS="+list(2, 1, 4, true))
	}
	r.Shuffle(len(parts)-1, func(i, j int) { parts[i+1], parts[j+1] = parts[j+1], parts[i+1] })
	return strings.Join(parts, ";")
}

// queryRange is how far past DTSTART the test asks, per frequency, so that
// plain iteration from DTSTART stays affordable.
var queryRange = map[rrule.Frequency]time.Duration{
	rrule.YEARLY: 40 * 366 * 24 * time.Hour, rrule.MONTHLY: 20 * 366 * 24 * time.Hour,
	rrule.WEEKLY: 8 * 366 * 24 * time.Hour, rrule.DAILY: 4 * 366 * 24 * time.Hour,
	rrule.HOURLY: 60 * 24 * time.Hour, rrule.MINUTELY: 3 * 24 * time.Hour, rrule.SECONDLY: 3 * time.Hour,
}

// TestRRuleAnchoring checks that iterating from a re-anchored DTSTART gives
// exactly the occurrences plain rrule-go iteration from the real DTSTART
// gives, on random rules and random query times.
func TestRRuleAnchoring(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	cases, compiled, anchored := 1500, 0, 0
	if testing.Short() || raceEnabled {
		cases = 300
	}
	for range cases {
		rule := randomRRule(r)
		start := Civil{1995 + r.IntN(35), time.Month(1 + r.IntN(12)), 1 + r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60)}
		sp, err := RRule(rule, start, time.UTC, Window{})
		if err != nil {
			continue
		}
		compiled++
		s := sp.(*rruleSpec)
		if s.counted {
			continue // covered by TestRRuleCount
		}
		// Plain iteration with the rule as written (defaults NOT made
		// explicit), from the real DTSTART.
		opt, err := rrule.StrToROption(rule)
		if err != nil {
			t.Fatalf("%q: %v", rule, err)
		}
		opt.Dtstart = time.Unix(start.naive(), 0).UTC()
		span := queryRange[opt.Freq]
		limit := opt.Dtstart.Add(span)
		opt.Until = limit.Add(span / 4)
		plain, _ := rrule.NewRRule(*opt)
		all := plain.All()
		if len(all) > 200000 {
			continue
		}
		for range 8 {
			q := opt.Dtstart.Add(-span/20 + time.Duration(r.Int64N(int64(span+span/20))))
			cur := rruleCursor{s: s}
			w := q.Unix()
			if s.anchor(w) != s.dtstart {
				anchored++
			}
			for k := 0; k < 4; k++ {
				got, ok := cur.atLeast(w)
				var want time.Time
				if i, _ := slices.BinarySearchFunc(all, w, func(x time.Time, w int64) int { return cmp.Compare(x.Unix(), w) }); i < len(all) {
					want = all[i]
				}
				if want.IsZero() || want.After(limit) {
					break // beyond what plain iteration covered
				}
				if !ok || got != want.Unix() {
					t.Fatalf("%q start %s, first at or after %s: anchored %s (%v), plain %s",
						rule, start, time.Unix(w, 0).UTC(), time.Unix(got, 0).UTC(), ok, want)
				}
				w = got + 1
			}
		}
	}
	if compiled < cases/2 || anchored < cases {
		t.Fatalf("weak test: %d of %d rules compiled, %d anchored queries", compiled, cases, anchored)
	}
	t.Logf("%d of %d random rules compiled; %d queries used a re-anchored DTSTART", compiled, cases, anchored)
}

// TestRRuleCount checks COUNT expansion against rrule-go's own list.
func TestRRuleCount(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	cases := 300
	if testing.Short() || raceEnabled {
		cases = 80
	}
	for range cases {
		rule := randomRRule(r) + fmt.Sprintf(";COUNT=%d", 1+r.IntN(60))
		start := Civil{1995 + r.IntN(35), time.Month(1 + r.IntN(12)), 1 + r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60)}
		sp, err := RRule(rule, start, time.UTC, Window{})
		if err != nil {
			continue
		}
		opt, _ := rrule.StrToROption(rule)
		opt.Dtstart = time.Unix(start.naive(), 0).UTC()
		// rrule-go's implicit UNTIL is DTSTART+290 years (the time.Duration
		// limit); this package plans to year 9999.
		opt.Until = time.Unix(maxNaive, 0).UTC()
		plain, _ := rrule.NewRRule(*opt)
		want := plain.All()
		got := fires(t, sp, time.Unix(start.naive()-1, 0), len(want)+1)
		if len(got) != len(want) {
			t.Fatalf("%q start %s: %d fires, rrule-go %d", rule, start, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i].Format(time.RFC3339) {
				t.Fatalf("%q start %s: fire %d = %s, rrule-go %s", rule, start, i, got[i], want[i].Format(time.RFC3339))
			}
		}
	}
}

// TestRRuleMatchesBruteForce checks RRULE fires in real zones, around DST
// transitions, against the brute-force instant scan: the wall times are
// plain rrule-go iteration in UTC, the mapping is the contract.
func TestRRuleMatchesBruteForce(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 12))
	cases, checked, firing := 300, 0, 0
	if testing.Short() || raceEnabled {
		cases = 80
	}
	for range cases {
		rule := randomRRule(r)
		// Favour frequencies that fire within the six days scanned.
		for i := 0; i < 4 && !strings.Contains("DAILY HOURLY MINUTELY", strings.TrimPrefix(strings.SplitN(rule, ";", 2)[0], "FREQ=")); i++ {
			rule = randomRRule(r)
		}
		if strings.Contains(rule, "SECOND") {
			continue // keep wall times on whole minutes for a 1-minute scan
		}
		loc := mustLoc(t, propertyZones[r.IntN(len(propertyZones))])
		from := randomFrom(r, loc)
		st := CivilOf(from.In(loc).Add(-time.Duration(r.IntN(10*24)) * time.Hour).Truncate(time.Minute))
		st.Second = 0
		s, err := RRule(rule, st, loc, Window{})
		if err != nil {
			continue
		}
		to := from.Unix() + 6*secsPerDay
		opt, _ := rrule.StrToROption(rule)
		opt.Dtstart = time.Unix(st.naive(), 0).UTC()
		opt.Until = time.Unix(to+maxOffset, 0).UTC()
		plain, _ := rrule.NewRRule(*opt)
		walls := map[int64]bool{}
		for _, w := range plain.All() {
			walls[w.Unix()] = true
		}
		want := bruteFires(loc, from.Unix(), to, 60, func(w time.Time) bool { return walls[w.Unix()] })
		var got []int64
		for at := from; ; {
			n, ok := s.Next(at)
			if !ok || n.Unix() > to {
				break
			}
			got = append(got, n.Unix())
			at = n
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q start %s in %s from %s:\n got %v\nwant %v", rule, st, loc, from.Format(time.RFC3339Nano), fmtUnix(got, loc), fmtUnix(want, loc))
		}
		checked++
		if len(want) > 0 {
			firing++
		}
	}
	if firing < cases/4 {
		t.Fatalf("weak test: only %d of %d cases fired (%d checked)", firing, cases, checked)
	}
	t.Logf("%d of %d cases checked, %d with fires", checked, cases, firing)
}
