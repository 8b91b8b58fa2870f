package spec

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestRRuleErrors(t *testing.T) {
	t.Parallel()
	start := Civil{2026, 3, 2, 0, 0, 0} // a Monday, midnight
	rows := []struct {
		rule, want string
		never      bool
	}{
		{"", "rrule: empty rule", false},
		{"RRULE:", "rrule: empty rule", false},
		{"FREQ=DAILY\nRRULE:FREQ=DAILY", "give one RRULE line", false},
		{"DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY", "give one RRULE line", false},
		{"DTSTART=20260101T000000;FREQ=DAILY", "DTSTART is not allowed in the rule", false},
		{"FREQ=DAILY;DTSTART=20260101T000000", "DTSTART is not allowed in the rule", false},
		{"FREQ=FORTNIGHTLY", "FREQ=FORTNIGHTLY: want one of YEARLY", false},
		{"INTERVAL=2", "FREQ is required", false},
		{"FREQ=DAILY;FREQ=WEEKLY", "FREQ given twice", false},
		{"FREQ=DAILY;COUNT", `part "COUNT" is not NAME=VALUE`, false},
		{"FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z", "COUNT and UNTIL cannot both be given", false},
		{"FREQ=DAILY;COUNT=0", "COUNT=0: want a whole number 1-100000", false},
		{"FREQ=DAILY;COUNT=100001", "COUNT=100001: want a whole number 1-100000", false},
		{"FREQ=DAILY;INTERVAL=0", "INTERVAL=0: want a whole number 1-1000000", false},
		{"FREQ=DAILY;INTERVAL=-1", "INTERVAL=-1: want a whole number", false},
		{"FREQ=DAILY;BYHOUR=25", "byhour must be between 0 and 23", false},
		{"FREQ=DAILY;BYHOUR=a", "BYHOUR=A: want a comma-separated list of whole numbers", false},
		{"FREQ=DAILY;BYDAY=XX", "BYDAY=XX: want a list of weekdays", false},
		{"FREQ=DAILY;WKST=XX", "WKST=XX: want one of MO", false},
		{"FREQ=DAILY;BYEASTER=0", "BYEASTER is an rrule-go extension", false},
		{"FREQ=DAILY;FOO=1", `unknown part "FOO"`, false},
		{"FREQ=DAILY;UNTIL=2026", "UNTIL=2026: want 20060102T150405Z", false},
		{"FREQ=DAILY;UNTIL=20250101T000000", "UNTIL 2025-01-01T00:00:00 is before the start", true},
		{"FREQ=WEEKLY;BYDAY=1MO", "a numbered weekday needs FREQ=MONTHLY or YEARLY", false},
		{"FREQ=MONTHLY;BYDAY=6MO", "a month has at most 5 of each weekday", false},
		{"FREQ=YEARLY;BYMONTH=1;BYDAY=-6MO", "a month has at most 5 of each weekday", false},
		{"FREQ=MONTHLY;BYDAY=1MO,FR", "mixes a numbered weekday (+1MO) with a plain one (FR)", false},
		{"FREQ=DAILY;BYWEEKNO=1", "BYWEEKNO is only allowed with FREQ=YEARLY", false},
		{"FREQ=MONTHLY;BYYEARDAY=1", "BYYEARDAY is not allowed", false},
		{"FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY is not allowed with FREQ=WEEKLY", false},
		{"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never fires: no BYMONTHDAY day exists in its months", true},
		{"FREQ=HOURLY;INTERVAL=2;BYHOUR=1", "never fires: with INTERVAL=2", true},
		{"FREQ=DAILY;INTERVAL=7;BYDAY=TU", "never fires: no day its BYxxx parts allow", true},
		{"FREQ=SECONDLY;BYSETPOS=2", "never fires: a secondly period has at most 1 candidates", true},
		{"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", "never fires: a monthly period has at most 5 candidates", true},
		{"FREQ=MONTHLY;BYDAY=4FR;BYMONTHDAY=29", "never fires: no occurrence in the 400 years after the start", true},
		{"FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29", "never fires", true}, // 2026, 2030, ... are never leap
	}
	for _, r := range rows {
		_, err := RRule(r.rule, start, time.UTC, Window{})
		if err == nil {
			t.Errorf("RRule(%q): no error, want %q", r.rule, r.want)
			continue
		}
		if !strings.Contains(err.Error(), r.want) {
			t.Errorf("RRule(%q): %q, want it to contain %q", r.rule, err, r.want)
		}
		if !errors.Is(err, ErrInvalidRRule) || errors.Is(err, ErrNeverFires) != r.never {
			t.Errorf("RRule(%q): %q: wrong sentinels", r.rule, err)
		}
	}
	if _, err := RRule("FREQ=DAILY", Civil{}, time.UTC, Window{}); err == nil || !strings.Contains(err.Error(), "a start (DTSTART) is required") {
		t.Errorf("zero start: %v", err)
	}
	if _, err := RRule("FREQ=DAILY", Civil{2026, 2, 30, 0, 0, 0}, time.UTC, Window{}); err == nil || !strings.Contains(err.Error(), "day 30 out of range") {
		t.Errorf("bad start: %v", err)
	}
	if _, err := RRule("FREQ=DAILY", Civil{1, 1, 1, 0, 0, 0}, time.UTC, Window{}); err == nil || !strings.Contains(err.Error(), "is before 1900") {
		t.Errorf("year-1 start: %v", err)
	}
	if _, err := RRule("FREQ=YEARLY;BYWEEKNO=1", Civil{9999, 12, 31, 23, 0, 0}, time.UTC, Window{}); err == nil || !strings.Contains(err.Error(), "end of year 9999") {
		t.Errorf("start at the end of the range: %v", err)
	}
	if _, err := RRule("FREQ=DAILY", start, time.UTC, Window{End: Civil{2026, 3, 1, 0, 0, 0}}); !errors.Is(err, ErrInvalidWindow) || !strings.Contains(err.Error(), "is before start") {
		t.Errorf("window end before DTSTART: %v", err)
	}
	// Accepted spellings.
	for _, ok := range []string{"rrule:freq=weekly;byday=mo,we", "  RRULE:FREQ=DAILY;  ", "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=-1", "FREQ=MONTHLY;BYDAY=-1FR,2MO"} {
		if _, err := RRule(ok, start, time.UTC, Window{}); err != nil {
			t.Errorf("RRule(%q): %v", ok, err)
		}
	}
}

func TestRRuleWindowAndRepeats(t *testing.T) {
	t.Parallel()
	s, err := RRule("FREQ=DAILY", Civil{2026, 1, 1, 9, 0, 0}, time.UTC, Window{Start: Civil{2027, 1, 1, 0, 0, 0}, End: Civil{2026, 1, 4, 9, 0, 0}})
	if err == nil {
		t.Fatalf("a reversed window must fail even though RRULE ignores its start")
	}
	s, err = RRule("FREQ=DAILY", Civil{2026, 1, 1, 9, 0, 0}, time.UTC, Window{End: Civil{2026, 1, 4, 9, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	got := fires(t, s, mustTime(t, "2025-12-01T00:00:00Z"), 5)
	if want := []string{"2026-01-01T09:00:00Z", "2026-01-02T09:00:00Z", "2026-01-03T09:00:00Z"}; !equalStrings(got, want) {
		t.Errorf("window end: %q", got)
	}
	// Repeated values are one occurrence; COUNT counts distinct ones.
	s, err = RRule("FREQ=DAILY;BYHOUR=9,9,17;BYMINUTE=0;COUNT=4", Civil{2026, 1, 1, 0, 0, 0}, time.UTC, Window{})
	if err != nil {
		t.Fatal(err)
	}
	got = fires(t, s, mustTime(t, "2025-12-01T00:00:00Z"), 5)
	if want := []string{"2026-01-01T09:00:00Z", "2026-01-01T17:00:00Z", "2026-01-02T09:00:00Z", "2026-01-02T17:00:00Z"}; !equalStrings(got, want) {
		t.Errorf("repeated values: %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	ats := []struct{ in, want string }{
		{"2026-03-08", "has no time of day"},
		{"tomorrow", "is neither an RFC 3339 time with offset nor a local wall time"},
		{"", "is neither an RFC 3339 time"},
		{"2026-02-30T10:00", "day out of range"},
		{"2026-03-08T25:00", "hour out of range"},
		{"2026-03-08T10:00:00+25:00", "is not a valid RFC 3339 time"},
		{"2026-03-08T10:00:00.5", "fractional seconds are not allowed in a wall time"},
	}
	for _, r := range ats {
		_, err := ParseAt(r.in, time.UTC)
		if err == nil || !strings.Contains(err.Error(), r.want) || !errors.Is(err, ErrInvalidAt) {
			t.Errorf("ParseAt(%q): %v, want %q", r.in, err, r.want)
		}
	}
	civils := []struct{ in, want string }{
		{"2026-03-08T10:00:00Z", "has a UTC offset"},
		{"2026-03-08T10:00:00+01:00", "has a UTC offset"},
		{"2026-13-01", "month out of range"},
		{"2026-02-29", "day out of range"},
		{"", "is not a local wall time"},
		{"2026-03-08 10:00", "is not a local wall time"},
	}
	for _, r := range civils {
		_, err := ParseCivil(r.in)
		if err == nil || !strings.Contains(err.Error(), r.want) || !errors.Is(err, ErrInvalidCivil) {
			t.Errorf("ParseCivil(%q): %v, want %q", r.in, err, r.want)
		}
	}
	for in, want := range map[string]Civil{
		"2026-03-08T10:04:05": {2026, 3, 8, 10, 4, 5},
		"2026-03-08T10:04":    {2026, 3, 8, 10, 4, 0},
		"2028-02-29":          {2028, 2, 29, 0, 0, 0},
	} {
		if got, err := ParseCivil(in); err != nil || got != want || got.String() != want.String() {
			t.Errorf("ParseCivil(%q) = %v, %v", in, got, err)
		}
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	ny := mustLoc(t, "America/New_York")
	if got := Resolve(Civil{2026, 3, 8, 2, 30, 0}, ny).Format(time.RFC3339); got != "2026-03-08T03:30:00-04:00" {
		t.Errorf("gap: %s", got)
	}
	if got := Resolve(Civil{2026, 11, 1, 1, 30, 0}, ny).Format(time.RFC3339); got != "2026-11-01T01:30:00-04:00" {
		t.Errorf("overlap: %s", got)
	}
	if got := Resolve(Civil{2026, 1, 1, 0, 0, 0}, nil).Format(time.RFC3339); got != "2026-01-01T00:00:00Z" {
		t.Errorf("nil loc: %s", got)
	}
	// Apia skipped 2011-12-30 entirely (-10 to +14): the whole day is a gap.
	apia := mustLoc(t, "Pacific/Apia")
	if got := Resolve(Civil{2011, 12, 30, 12, 0, 0}, apia).Format(time.RFC3339); got != "2011-12-31T12:00:00+14:00" {
		t.Errorf("apia: %s", got)
	}
	// Round trip: the wall time of any instant resolves back to it, unless
	// the instant is a second occurrence, which resolves to the first.
	r := rand.New(rand.NewPCG(9, 10))
	for range 20000 {
		loc := mustLoc(t, propertyZones[r.IntN(len(propertyZones))])
		at := randomFrom(r, loc).Truncate(time.Second)
		got := Resolve(CivilOf(at), loc)
		if CivilOf(got.In(loc)) != CivilOf(at) || got.After(at) {
			t.Fatalf("Resolve(CivilOf(%s)) = %s", at.Format(time.RFC3339), got.Format(time.RFC3339))
		}
		if !got.Equal(at) && CivilOf(at.Add(got.Sub(at))) != CivilOf(at) {
			t.Fatalf("%s resolved to a different wall time", at)
		}
	}
}

func TestJitter(t *testing.T) {
	t.Parallel()
	planned := mustTime(t, "2026-03-08T09:00:00Z")
	max := time.Hour
	a := Jitter("sched-a", planned, max)
	if b := Jitter("sched-a", planned.In(mustLoc(t, "America/New_York")), max); a != b {
		t.Errorf("zone changed the jitter: %v vs %v", a, b)
	}
	if b := Jitter("sched-a", planned, max); a != b {
		t.Errorf("not deterministic: %v vs %v", a, b)
	}
	for _, m := range []time.Duration{0, -time.Second} {
		if j := Jitter("x", planned, m); j != 0 {
			t.Errorf("max %v: %v", m, j)
		}
	}
	if Jitter("x", planned, 1) != 0 {
		t.Error("max 1ns must give 0")
	}
	// Roughly uniform over a fixed input set (so it cannot flake): 10 buckets
	// of 20000 draws, expected 2000 each with sigma ~42.
	const n, buckets = 20000, 10
	var hist [buckets]int
	distinctIDs, distinctTimes := 0, 0
	for i := range n {
		p := planned.Add(time.Duration(i) * time.Minute)
		j := Jitter(fmt.Sprintf("sched-%d", i%97), p, max)
		if j < 0 || j >= max {
			t.Fatalf("jitter %v out of [0, %v)", j, max)
		}
		hist[j*buckets/max]++
		if j != Jitter(fmt.Sprintf("sched-%d", i%97+1), p, max) {
			distinctIDs++
		}
		if j != Jitter(fmt.Sprintf("sched-%d", i%97), p.Add(time.Second), max) {
			distinctTimes++
		}
	}
	for b, c := range hist {
		if c < 1700 || c > 2300 {
			t.Errorf("bucket %d has %d of %d draws: %v", b, c, n, hist)
		}
	}
	if distinctIDs < n-5 || distinctTimes < n-5 {
		t.Errorf("ids or instants barely change the jitter: %d, %d of %d", distinctIDs, distinctTimes, n)
	}
}

// TestConcurrentNext runs Next on shared specs from several goroutines; run
// with -race it proves compiled specs are safe to share (rrule-go is handed
// the spec's BYxxx slices on every call and must only read them).
func TestConcurrentNext(t *testing.T) {
	t.Parallel()
	loc := mustLoc(t, "Europe/Berlin")
	c, err := Cron("*/15 9-17 * * MON-FRI", loc, Window{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := RRule("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;BYHOUR=17", Civil{2023, 1, 2, 9, 0, 0}, loc, Window{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[Spec][]string{}
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
	for _, s := range []Spec{c, r} {
		want[s] = fires(t, s, from, 50)
	}
	type result struct {
		s   Spec
		got []string
	}
	done := make(chan result)
	for i := range 8 {
		s := []Spec{c, r}[i%2]
		go func() {
			var got []string // no t.Fatal off the test goroutine
			for at, k := from, 0; k < 50; k++ {
				n, ok := s.Next(at)
				if !ok {
					break
				}
				got, at = append(got, n.Format(time.RFC3339Nano)), n
			}
			done <- result{s, got}
		}()
	}
	for range 8 {
		if res := <-done; !equalStrings(res.got, want[res.s]) {
			t.Errorf("concurrent Next differs from sequential")
		}
	}
}
