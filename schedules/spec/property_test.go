package spec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// propertyZones are the DST-table zones plus a few with unusual histories:
// Apia skipped 2011-12-30 (a 24h gap), Troll jumps 2h, Dublin has
// "negative" DST in tzdata, Casablanca suspends DST for Ramadan (several
// transitions a year), St Johns is -03:30, Lord Howe moves 30 minutes.
var propertyZones = []string{
	"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu",
	"Pacific/Chatham", "America/Santiago", "Pacific/Apia", "Antarctica/Troll",
	"Europe/Dublin", "Africa/Casablanca", "America/St_Johns", "Europe/Moscow",
}

// randomCronField builds a field over [lo, hi] that stays reasonably dense.
func randomCronField(r *rand.Rand, lo, hi int, starBias int) string {
	if r.IntN(10) < starBias {
		if r.IntN(3) == 0 {
			return fmt.Sprintf("*/%d", 1+r.IntN(max(1, (hi-lo)/2)))
		}
		return "*"
	}
	var parts []string
	for range 1 + r.IntN(3) {
		a := lo + r.IntN(hi-lo+1)
		switch r.IntN(3) {
		case 0:
			parts = append(parts, fmt.Sprint(a))
		case 1:
			b := a + r.IntN(hi-a+1)
			parts = append(parts, fmt.Sprintf("%d-%d", a, b))
		default:
			b := a + r.IntN(hi-a+1)
			parts = append(parts, fmt.Sprintf("%d-%d/%d", a, b, 1+r.IntN(5)))
		}
	}
	return strings.Join(parts, ",")
}

func randomCron(r *rand.Rand, withSeconds bool) string {
	f := []string{
		randomCronField(r, 0, 59, 4),
		randomCronField(r, 0, 23, 6),
		randomCronField(r, 1, 31, 8),
		randomCronField(r, 1, 12, 9),
		randomCronField(r, 0, 6, 7),
	}
	if withSeconds {
		f = append([]string{randomCronField(r, 0, 59, 3)}, f...)
	}
	return strings.Join(f, " ")
}

// refMatcher decides whether a wall time matches, from robfig's parsed bit
// sets and the Vixie day rule applied to the field text; it shares no
// stepping code with cronSpec.
type refMatcher struct {
	s      *cron.SpecSchedule
	dayAnd bool
}

func newRefMatcher(t testing.TB, expr string) refMatcher {
	p, err := cronParser.Parse(expr)
	if err != nil {
		t.Fatalf("robfig: %v", err)
	}
	f := strings.Fields(expr)
	n := len(f)
	return refMatcher{p.(*cron.SpecSchedule), strings.HasPrefix(f[n-3], "*") || strings.HasPrefix(f[n-1], "*")}
}

func (m refMatcher) match(w time.Time) bool {
	bit := func(set uint64, v int) bool { return set&(1<<uint(v)) != 0 }
	dom, dow := bit(m.s.Dom, w.Day()), bit(m.s.Dow, int(w.Weekday()))
	day := dom || dow
	if m.dayAnd {
		day = dom && dow
	}
	return day && bit(m.s.Month, int(w.Month())) && bit(m.s.Hour, w.Hour()) &&
		bit(m.s.Minute, w.Minute()) && bit(m.s.Second, w.Second())
}

// bruteFires lists, by scanning instants forward in steps of step seconds,
// every fire instant in (from, to] of the wall times match accepts, built
// directly on the contract: an instant fires if its wall time matches and
// no earlier instant had that wall time; a wall time skipped by a forward
// jump (a gap) fires at itself minus the offset in force before the jump.
// Scanning starts 3h early so that first occurrences are known (no zone
// here repeats more than 2h).
func bruteFires(loc *time.Location, from, to int64, step int64, match func(time.Time) bool) []int64 {
	seen := map[int64]bool{}
	set := map[int64]bool{}
	start := (from - 3*3600) / step * step
	wallOf := func(i int64) (int64, int64) {
		_, off := time.Unix(i, 0).In(loc).Zone()
		return i + int64(off), int64(off)
	}
	prevWall, prevOff := wallOf(start - step)
	for i := start; i <= to; i += step {
		wall, off := wallOf(i)
		for gw := prevWall + step; gw < wall; gw += step { // wall times jumped over
			if !seen[gw] {
				seen[gw] = true
				if match(time.Unix(gw, 0).UTC()) {
					set[gw-prevOff] = true
				}
			}
		}
		if !seen[wall] {
			seen[wall] = true
			if match(time.Unix(wall, 0).UTC()) {
				set[i] = true
			}
		}
		prevWall, prevOff = wall, off
	}
	var out []int64
	for i := range set {
		if i > from && i <= to {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

// randomFrom picks a start instant, half of the time within a few hours of
// one of the zone's transitions.
func randomFrom(r *rand.Rand, loc *time.Location) time.Time {
	lo := time.Date(1975, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2037, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	at := lo + r.Int64N(hi-lo)
	if r.IntN(2) == 0 {
		if _, end := time.Unix(at, 0).In(loc).ZoneBounds(); !end.IsZero() {
			at = end.Unix() - 3*3600 + r.Int64N(4*3600)
		}
	}
	t := time.Unix(at, 0)
	if r.IntN(4) == 0 {
		t = t.Add(time.Duration(r.IntN(1e9)))
	}
	return t.In(loc)
}

func TestCronMatchesBruteForce(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	cases := 400
	if testing.Short() || raceEnabled {
		cases = 60
	}
	for i := range cases {
		withSeconds := i%4 == 3
		expr := randomCron(r, withSeconds)
		zone := propertyZones[r.IntN(len(propertyZones))]
		loc := mustLoc(t, zone)
		s, err := Cron(expr, loc, Window{})
		if err != nil {
			continue // a random never-firing spec
		}
		from := randomFrom(r, loc)
		step, span := int64(60), int64(2*86400)
		if withSeconds {
			step, span = 1, 3*3600
		}
		to := from.Unix() + span
		want := bruteFires(loc, from.Unix(), to, step, newRefMatcher(t, expr).match)
		var got []int64
		for at := from; ; {
			n, ok := s.Next(at)
			if !ok || n.Unix() > to {
				break
			}
			if !n.After(at) {
				t.Fatalf("%q in %s: Next(%s) = %s, not after", expr, zone, at, n)
			}
			got = append(got, n.Unix())
			at = n
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q in %s from %s:\n got %v\nwant %v", expr, zone, from.Format(time.RFC3339Nano), fmtUnix(got, loc), fmtUnix(want, loc))
		}
	}
}

func fmtUnix(v []int64, loc *time.Location) []string {
	var out []string
	for i, x := range v {
		if i == 12 {
			out = append(out, "...")
			break
		}
		out = append(out, time.Unix(x, 0).In(loc).Format(time.RFC3339))
	}
	return out
}

// TestCronStepperMatchesRobfig checks the civil stepper against robfig's
// own Next run in UTC (exact civil stepping there), with its star flags
// set from the field text as Vixie cron does.
func TestCronStepperMatchesRobfig(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		expr := randomCron(r, r.IntN(3) == 0)
		sp, err := Cron(expr, time.UTC, Window{})
		if err != nil {
			continue
		}
		ref := newRefMatcher(t, expr).s
		f := strings.Fields(expr)
		n := len(f)
		ref.Dom &^= starBit
		ref.Dow &^= starBit
		if strings.HasPrefix(f[n-3], "*") {
			ref.Dom |= starBit
		}
		if strings.HasPrefix(f[n-1], "*") {
			ref.Dow |= starBit
		}
		ref.Location = time.UTC
		w := time.Date(1990+r.IntN(60), time.Month(1+r.IntN(12)), 1+r.IntN(31), r.IntN(24), r.IntN(60), r.IntN(60), 0, time.UTC).Unix()
		got, ok := sp.(*cronSpec).atLeast(w)
		want := ref.Next(time.Unix(w-1, 0).UTC())
		if want.IsZero() { // robfig gives up after 5 years
			if ok && got-w < 5*365*secsPerDay {
				t.Errorf("%q from %s: got %s, robfig found nothing", expr, time.Unix(w, 0).UTC(), time.Unix(got, 0).UTC())
			}
			continue
		}
		if !ok || got != want.Unix() {
			t.Errorf("%q from %s: got %s (%v), robfig %s", expr, time.Unix(w, 0).UTC(), time.Unix(got, 0).UTC(), ok, want)
		}
	}
}
