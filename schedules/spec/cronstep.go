package spec

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// atLeast returns the first wall time >= w matching the expression: the
// classic odometer (month, day, hour, minute, second), each field jumping
// straight to its next set bit. Days are matched a month at a time with a
// bit mask, so sparse day rules ("Feb 29 that is a Monday") cost one step
// per candidate month, not per day.
func (c *cronSpec) atLeast(w int64) (int64, bool) {
	if w < minNaive {
		w = minNaive
	}
	days := floorDiv(w, secsPerDay)
	sod := int(w - days*secsPerDay)
	y, m, d := civilFromDays(days)
	h, mi, s := sod/3600, sod/60%60, sod%60
	var maskY int64 = -1 // dayMask of (maskY, maskM), reused across carries
	var maskM int
	var mask uint64
	for y <= 9999 {
		if nm, ok := nextBit(uint64(c.month), m); !ok {
			y, m, d, h, mi, s = y+1, 1, 1, 0, 0, 0
			continue
		} else if nm != m {
			m, d, h, mi, s = nm, 1, 0, 0, 0
		}
		if y != maskY || m != maskM {
			maskY, maskM, mask = y, m, c.dayMask(y, m)
		}
		nd, ok := nextBit(mask, d)
		if !ok {
			m, d, h, mi, s = m+1, 1, 0, 0, 0
			continue
		} else if nd != d {
			d, h, mi, s = nd, 0, 0, 0
		}
		nh, ok := nextBit(uint64(c.hour), h)
		if !ok {
			d, h, mi, s = d+1, 0, 0, 0
			continue
		} else if nh != h {
			h, mi, s = nh, 0, 0
		}
		nmi, ok := nextBit(c.minute, mi)
		if !ok {
			h, mi, s = h+1, 0, 0
			continue
		} else if nmi != mi {
			mi, s = nmi, 0
		}
		ns, ok := nextBit(c.second, s)
		if !ok {
			mi, s = mi+1, 0
			continue
		}
		return daysFromCivil(y, m, d)*secsPerDay + int64(h*3600+mi*60+ns), true
	}
	return 0, false
}

// dayMask returns the days of month m of year y that match, as bits 1-31.
// Weekdays are laid onto days by repeating the 7-bit weekday set and
// shifting it by the weekday of the 1st.
func (c *cronSpec) dayMask(y int64, m int) uint64 {
	valid := monthDayMask(daysIn(y, m))
	wd1 := weekdayOfDays(daysFromCivil(y, m, 1))
	// rep bit k is set iff weekday k%7 is in the set (9 copies, 63 bits).
	rep := uint64(c.dow) * 0x0102040810204081
	byDow := (rep >> wd1) << 1 // bit d: weekday (wd1 + d - 1) % 7
	byDom := uint64(c.dom)
	if c.dayAnd {
		return byDom & byDow & valid
	}
	return (byDom | byDow) & valid
}

// nextBit returns the smallest set bit >= from.
func nextBit(set uint64, from int) (int, bool) {
	if from >= 64 {
		return 0, false
	}
	set &= ^uint64(0) << from
	if set == 0 {
		return 0, false
	}
	return bits.TrailingZeros64(set), true
}

// cronBounds and names mirror robfig's, for diagnostics only.
var cronBounds = [6]struct {
	lo, hi int
	names  map[string]int
}{
	{0, 59, nil}, {0, 59, nil}, {0, 23, nil}, {1, 31, nil},
	{1, 12, map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}},
	{0, 6, map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}},
}

// diagnoseCron turns robfig's error into a one-liner that names the field,
// e.g. `cron: field "hour": 25 out of range 0-23`. robfig's messages name
// neither the field nor the rule, so the field is re-checked here; robfig's
// error stays reachable through errors.As/Unwrap.
func diagnoseCron(fields []string, libErr error) error {
	if len(fields) == 5 {
		fields = append([]string{"0"}, fields...)
	}
	if len(fields) == 6 {
		for i, f := range fields {
			if msg := checkCronField(f, i); msg != "" {
				return cronError(fmt.Sprintf("cron: field %q: %s", cronFieldNames[i], msg), libErr)
			}
		}
	}
	return cronError(fmt.Sprintf("cron: %s", libErr), libErr)
}

func checkCronField(field string, i int) string {
	b := cronBounds[i]
	value := func(s string) (int, string) {
		if v, ok := b.names[strings.ToLower(s)]; ok {
			return v, ""
		}
		v, err := strconv.Atoi(s)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return 0, fmt.Sprintf("%s out of range %d-%d", s, b.lo, b.hi)
			}
			if b.names != nil {
				return 0, fmt.Sprintf("%q is not a number or a name", s)
			}
			return 0, fmt.Sprintf("%q is not a number", s)
		}
		if v < b.lo || v > b.hi {
			if i == 5 && v == 7 {
				return 0, "7 out of range 0-6 (Sunday is 0 or SUN)"
			}
			return 0, fmt.Sprintf("%d out of range %d-%d", v, b.lo, b.hi)
		}
		return v, ""
	}
	for _, part := range strings.Split(field, ",") {
		rng, step, hasStep := strings.Cut(part, "/")
		if hasStep {
			if strings.Contains(step, "/") {
				return fmt.Sprintf("%q has more than one /", part)
			}
			n, err := strconv.Atoi(step)
			if err != nil || n <= 0 {
				return fmt.Sprintf("step %q in %q is not a positive number", step, part)
			}
		}
		if rng == "*" || rng == "?" {
			continue
		}
		lo, hi, isRange := strings.Cut(rng, "-")
		if isRange && strings.Contains(hi, "-") {
			return fmt.Sprintf("%q has more than one -", part)
		}
		a, msg := value(lo)
		if msg != "" {
			return msg
		}
		if isRange {
			z, msg := value(hi)
			if msg != "" {
				return msg
			}
			if a > z {
				return fmt.Sprintf("range %q runs backwards", rng)
			}
		}
	}
	return ""
}
