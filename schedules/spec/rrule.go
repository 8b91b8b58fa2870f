package spec

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// Limits that keep every compiled RRULE cheap to step. They are far beyond
// what a posting schedule needs.
const (
	// MaxCount is the largest COUNT accepted: COUNT rules are expanded once
	// at compile (COUNT counts from DTSTART, so they cannot be re-anchored).
	MaxCount = 100000
	// MaxInterval is the largest INTERVAL accepted.
	MaxInterval = 1000000
	// searchYears bounds the compile-time search for a first occurrence:
	// the Gregorian calendar repeats every 400 years, so a rule with no
	// occurrence in that span essentially never fires.
	searchYears = 400
	// minRRuleYear is the earliest start year accepted.
	minRRuleYear = 1900
)

// rruleSpec is a compiled RRULE. Stepping runs rrule-go on naive wall times
// (DTSTART and UNTIL in UTC standing for wall times) re-anchored near the
// asked time; see rrulestep.go.
type rruleSpec struct {
	loc      *time.Location
	opt      rrule.ROption // BYxxx defaults made explicit; Dtstart/Until set per use
	freq     rrule.Frequency
	interval int64
	dtstart  int64   // naive
	until    int64   // naive, inclusive: UNTIL, or a bound derived from it or the window end
	end      int64   // instant, exclusive: window end, or UNTIL...Z + 1s
	k0       int64   // index of DTSTART's period (see periodIndex)
	wkst0    int64   // a day number whose weekday is WKST
	occ      []int64 // COUNT rules: every fire instant, sorted, distinct
	counted  bool
}

// RRule compiles an RFC 5545 RRULE (with or without a leading "RRULE:";
// names are case-insensitive) whose DTSTART is the wall time start in loc,
// limited to w: w.End applies, w.Start is ignored because DTSTART is the
// start. start is required (year 1900 or later), and a DTSTART inside the
// rule is refused (the schedule's start field is the one source of truth).
//
// UNTIL ending in Z is an instant; without Z it is a wall time in loc; a
// bare date (20261231) means through the end of that day. COUNT counts wall
// times from DTSTART (up to MaxCount); two wall times that resolve to the
// same instant (a gap time and its twin) fire once. As in rrule-go and
// python-dateutil, DTSTART itself fires only if it matches the rule (RFC
// 5545 leaves an unsynchronised DTSTART undefined). BYEASTER, an rrule-go
// extension, is refused.
func RRule(rule string, start Civil, loc *time.Location, w Window) (Spec, error) {
	loc = nonNil(loc)
	if start.IsZero() {
		return nil, rruleError("rrule: a start (DTSTART) is required")
	}
	if err := start.Validate(); err != nil {
		return nil, rruleError(fmt.Sprintf("rrule: start: %v", err), err)
	}
	if start.Year < minRRuleYear {
		// rrule-go takes a DTSTART of 0001-01-01T00:00:00 UTC for "unset"
		// (and substitutes now) and misbehaves around year 0.
		return nil, rruleError(fmt.Sprintf("rrule: start %s is before %d", start, minRRuleYear))
	}
	if err := w.Validate(); err != nil {
		return nil, err
	}
	if err := (Window{Start: start, End: w.End}).Validate(); err != nil {
		return nil, err
	}
	p, err := parseRRule(rule)
	if err != nil {
		return nil, err
	}
	opt, err := rrule.StrToROption(p.text)
	if err != nil {
		return nil, rruleError(fmt.Sprintf("rrule: %q: %v", p.orig, err), err)
	}
	if _, err := rrule.NewRRule(*opt); err != nil { // rrule-go's bounds checks
		return nil, rruleError(fmt.Sprintf("rrule: %q: %v", p.orig, err), err)
	}
	if msg := checkRFC(opt); msg != "" {
		return nil, rruleError(fmt.Sprintf("rrule: %q: %s", p.orig, msg))
	}
	s := &rruleSpec{
		loc:      loc,
		opt:      explicitDefaults(*opt, start),
		freq:     opt.Freq,
		interval: int64(max(opt.Interval, 1)),
		dtstart:  start.naive(),
		until:    maxNaive,
		end:      maxInstant,
		counted:  opt.Count > 0,
	}
	s.wkst0 = floorMod(int64(weekdayIndex(opt.Wkst))-3, 7) // day 0 was a Thursday (index 3)
	s.k0 = s.periodIndex(s.dtstart)
	ruleUntil, ruleEnd, err := s.applyUntil(p, start, w)
	if err != nil {
		return nil, err
	}
	if msg := s.unreachable(); msg != "" {
		return nil, neverFires(p.orig, msg)
	}
	if err := s.checkFires(p.orig, ruleUntil, ruleEnd); err != nil {
		return nil, err
	}
	if s.counted {
		if err := s.expand(); err != nil {
			return nil, rruleError(fmt.Sprintf("rrule: %q: %v", p.orig, err))
		}
	}
	return s, nil
}

func rruleError(msg string, cause ...error) error {
	return newError(msg, append([]error{ErrInvalidRRule}, cause...)...)
}

func neverFires(rule, why string) error {
	return newError(fmt.Sprintf("rrule: %q never fires: %s", rule, why), ErrInvalidRRule, ErrNeverFires)
}

// parsedRule is the rule text as checked here before rrule-go sees it.
type parsedRule struct {
	orig  string // as written, trimmed, for messages
	text  string // upper-cased parts for rrule-go, without UNTIL
	until string // UNTIL value, "" if none
}

// parseRRule checks the rule's shape and the parts rrule-go would accept
// silently or explain badly: a DTSTART, duplicate parts, COUNT with UNTIL,
// zero INTERVAL/COUNT, BYEASTER, malformed numbers and weekdays.
func parseRRule(rule string) (parsedRule, error) {
	p := parsedRule{orig: strings.TrimSpace(rule)}
	if strings.ContainsAny(p.orig, "\r\n") {
		return p, rruleError(fmt.Sprintf("rrule: %q: give one RRULE line; DTSTART comes from the schedule's start", p.orig))
	}
	up := strings.ToUpper(p.orig)
	if strings.HasPrefix(up, "DTSTART") {
		return p, rruleError(fmt.Sprintf("rrule: %q: DTSTART is not allowed in the rule; it comes from the schedule's start", p.orig))
	}
	up = strings.TrimPrefix(up, "RRULE:")
	if strings.TrimSpace(up) == "" {
		return p, rruleError("rrule: empty rule")
	}
	seen := map[string]bool{}
	var kept []string
	for part := range strings.SplitSeq(up, ";") {
		if part == "" {
			continue // a stray ";" is harmless
		}
		key, val, ok := strings.Cut(part, "=")
		if !ok || key == "" || val == "" {
			return p, rruleError(fmt.Sprintf("rrule: %q: part %q is not NAME=VALUE", p.orig, part))
		}
		if seen[key] {
			return p, rruleError(fmt.Sprintf("rrule: %q: %s given twice", p.orig, key))
		}
		seen[key] = true
		bad := func(want string) error {
			return rruleError(fmt.Sprintf("rrule: %q: %s=%s: want %s", p.orig, key, val, want))
		}
		switch key {
		case "DTSTART":
			return p, rruleError(fmt.Sprintf("rrule: %q: DTSTART is not allowed in the rule; it comes from the schedule's start", p.orig))
		case "BYEASTER":
			return p, rruleError(fmt.Sprintf("rrule: %q: BYEASTER is an rrule-go extension, not RFC 5545", p.orig))
		case "UNTIL":
			p.until = val
			continue
		case "FREQ":
			switch val {
			case "YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY":
			default:
				return p, bad("one of YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY, MINUTELY, SECONDLY")
			}
		case "INTERVAL":
			if n, err := strconv.Atoi(val); err != nil || n < 1 || n > MaxInterval {
				return p, bad(fmt.Sprintf("a whole number 1-%d", MaxInterval))
			}
		case "COUNT":
			if n, err := strconv.Atoi(val); err != nil || n < 1 || n > MaxCount {
				return p, bad(fmt.Sprintf("a whole number 1-%d", MaxCount))
			}
		case "WKST":
			if _, ok := weekdayNames[val]; !ok {
				return p, bad("one of MO, TU, WE, TH, FR, SA, SU")
			}
		case "BYDAY":
			for d := range strings.SplitSeq(val, ",") {
				if !validByDay(d) {
					return p, bad("a list of weekdays such as MO,WE or 1MO,-1FR")
				}
			}
		case "BYSETPOS", "BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYHOUR", "BYMINUTE", "BYSECOND":
			for n := range strings.SplitSeq(val, ",") {
				if _, err := strconv.Atoi(n); err != nil {
					return p, bad("a comma-separated list of whole numbers")
				}
			}
		default:
			return p, rruleError(fmt.Sprintf("rrule: %q: unknown part %q", p.orig, key))
		}
		kept = append(kept, part)
	}
	if !seen["FREQ"] {
		return p, rruleError(fmt.Sprintf("rrule: %q: FREQ is required", p.orig))
	}
	if seen["COUNT"] && seen["UNTIL"] {
		return p, rruleError(fmt.Sprintf("rrule: %q: COUNT and UNTIL cannot both be given (RFC 5545)", p.orig))
	}
	p.text = strings.Join(kept, ";")
	return p, nil
}

var weekdayNames = map[string]rrule.Weekday{
	"MO": rrule.MO, "TU": rrule.TU, "WE": rrule.WE, "TH": rrule.TH, "FR": rrule.FR, "SA": rrule.SA, "SU": rrule.SU,
}

// validByDay accepts [+|-][n]XX with XX a weekday.
func validByDay(d string) bool {
	if len(d) < 2 {
		return false
	}
	if _, ok := weekdayNames[d[len(d)-2:]]; !ok {
		return false
	}
	n := d[:len(d)-2]
	if n == "" {
		return true
	}
	_, err := strconv.Atoi(n)
	return err == nil && n != "+" && n != "-"
}

// weekdayIndex returns 0 for Monday ... 6 for Sunday (rrule-go's numbering).
func weekdayIndex(w rrule.Weekday) int { return w.Day() }

// checkRFC enforces the RFC 5545 combinations rrule-go accepts but either
// ignores (an ordinal BYDAY in a WEEKLY rule), gets wrong (numbered and
// plain weekdays together) or can crash on (an ordinal above 5 within a
// month indexes past its masks).
func checkRFC(o *rrule.ROption) string {
	f := o.Freq
	switch {
	case len(o.Byweekno) > 0 && f != rrule.YEARLY:
		return "BYWEEKNO is only allowed with FREQ=YEARLY"
	case len(o.Byyearday) > 0 && (f == rrule.MONTHLY || f == rrule.WEEKLY || f == rrule.DAILY):
		return "BYYEARDAY is not allowed with FREQ=MONTHLY, WEEKLY or DAILY"
	case len(o.Bymonthday) > 0 && f == rrule.WEEKLY:
		return "BYMONTHDAY is not allowed with FREQ=WEEKLY"
	}
	numbered, plain := "", ""
	for _, d := range o.Byweekday {
		n := d.N()
		if n == 0 {
			plain = d.String()
			continue
		}
		numbered = d.String()
		switch {
		case f != rrule.MONTHLY && f != rrule.YEARLY:
			return fmt.Sprintf("BYDAY=%s: a numbered weekday needs FREQ=MONTHLY or YEARLY", d)
		case f == rrule.YEARLY && len(o.Byweekno) > 0:
			return fmt.Sprintf("BYDAY=%s: a numbered weekday is not allowed with BYWEEKNO", d)
		case (f == rrule.MONTHLY || len(o.Bymonth) > 0) && (n > 5 || n < -5):
			return fmt.Sprintf("BYDAY=%s: a month has at most 5 of each weekday", d)
		}
	}
	if numbered != "" && plain != "" {
		// RFC 5545 means the union; rrule-go (like python-dateutil) demands
		// both at once, which never or rarely happens. Refuse rather than
		// silently fire on the wrong days.
		return fmt.Sprintf("BYDAY mixes a numbered weekday (%s) with a plain one (%s), which rrule-go does not support; use two schedules", numbered, plain)
	}
	return ""
}

// explicitDefaults writes down the BYxxx values rrule-go derives from
// DTSTART (the day, month, weekday and time of day it falls on), so the rule
// means the same when its iteration starts from another DTSTART.
//
// It also drops repeated values from the BYxxx lists: rrule-go would emit
// (and count toward COUNT) the same occurrence once per repeat, while an
// RRULE defines a set.
func explicitDefaults(o rrule.ROption, start Civil) rrule.ROption {
	for _, l := range []*[]int{&o.Bysetpos, &o.Bymonth, &o.Bymonthday, &o.Byyearday, &o.Byweekno, &o.Byhour, &o.Byminute, &o.Bysecond} {
		*l = slices.Compact(slices.Sorted(slices.Values(*l)))
	}
	o.Byweekday = slices.CompactFunc(slices.SortedFunc(slices.Values(o.Byweekday), func(a, b rrule.Weekday) int {
		return cmp.Or(cmp.Compare(a.N(), b.N()), cmp.Compare(a.Day(), b.Day()))
	}), func(a, b rrule.Weekday) bool { return a.N() == b.N() && a.Day() == b.Day() })
	noDay := len(o.Byweekno) == 0 && len(o.Byyearday) == 0 && len(o.Bymonthday) == 0 && len(o.Byweekday) == 0
	if noDay {
		switch o.Freq {
		case rrule.YEARLY:
			if len(o.Bymonth) == 0 {
				o.Bymonth = []int{int(start.Month)}
			}
			o.Bymonthday = []int{start.Day}
		case rrule.MONTHLY:
			o.Bymonthday = []int{start.Day}
		case rrule.WEEKLY:
			wd := weekdayOfDays(daysFromCivil(int64(start.Year), int(start.Month), start.Day)) // 0 = Sunday
			o.Byweekday = []rrule.Weekday{[]rrule.Weekday{rrule.SU, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA}[wd]}
		}
	}
	if len(o.Byhour) == 0 && o.Freq < rrule.HOURLY {
		o.Byhour = []int{start.Hour}
	}
	if len(o.Byminute) == 0 && o.Freq < rrule.MINUTELY {
		o.Byminute = []int{start.Minute}
	}
	if len(o.Bysecond) == 0 && o.Freq < rrule.SECONDLY {
		o.Bysecond = []int{start.Second}
	}
	if o.Interval < 1 {
		o.Interval = 1
	}
	return o
}

// applyUntil sets the naive iteration bound (s.until) and the exclusive
// instant end (s.end) from UNTIL and the window end, and returns the bounds
// that come from UNTIL alone.
func (s *rruleSpec) applyUntil(p parsedRule, start Civil, w Window) (ruleUntil, ruleEnd int64, err error) {
	ruleUntil, ruleEnd = maxNaive, maxInstant
	if p.until != "" {
		v := p.until
		bad := rruleError(fmt.Sprintf("rrule: %q: UNTIL=%s: want 20060102T150405Z (an instant), 20060102T150405 (a wall time) or 20060102 (through that day)", p.orig, v))
		layout := map[int]string{16: "20060102T150405Z", 15: "20060102T150405", 8: "20060102"}[len(v)]
		t, perr := time.Parse(layout, v)
		if layout == "" || perr != nil {
			return 0, 0, bad
		}
		var untilCivil Civil
		switch len(v) {
		case 16: // an instant: wall times up to it plus any offset may resolve before it
			ruleEnd = t.Unix() + 1
			ruleUntil = min(ruleUntil, t.Unix()+maxOffset)
			untilCivil = CivilOf(t.In(s.loc))
		case 15:
			untilCivil = CivilOf(t)
			ruleUntil = untilCivil.naive()
		case 8:
			untilCivil = CivilOf(t.Add(24*time.Hour - time.Second))
			ruleUntil = untilCivil.naive()
		}
		if untilCivil.Compare(start) < 0 {
			return 0, 0, neverFires(p.orig, fmt.Sprintf("UNTIL %s is before the start %s", untilCivil, start))
		}
	}
	s.until, s.end = ruleUntil, ruleEnd
	if !w.End.IsZero() {
		we, _, _ := resolveNaive(w.End.naive(), s.loc)
		s.end = min(s.end, we)
		s.until = min(s.until, we+maxOffset) // no later wall time resolves before we
	}
	return ruleUntil, ruleEnd, nil
}
