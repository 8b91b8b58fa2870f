package schedules

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// parseDuration parses a Go duration ("90s", "1h30m") that may also use a
// day unit ("1d", "7d", "1d12h"), because metrics stages and catch-up
// windows are naturally written in days. A day is 24 hours: these are
// elapsed durations, not calendar days. A bare "0" is zero.
func parseDuration(s string) (time.Duration, error) {
	orig := s
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if !strings.Contains(s, "d") {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, errBadDuration
		}
		if neg {
			d = -d
		}
		return d, nil
	}
	// Split off every "<number>d" part and hand the rest, in order, to
	// time.ParseDuration. No Go duration unit contains a 'd'.
	var days float64
	var rest strings.Builder
	for s != "" {
		i := 0
		for i < len(s) && (s[i] == '.' || s[i] >= '0' && s[i] <= '9') {
			i++
		}
		j := i
		for j < len(s) && s[j] != '.' && (s[j] < '0' || s[j] > '9') {
			j++
		}
		num, unit := s[:i], s[i:j]
		if num == "" || unit == "" {
			return 0, errBadDuration
		}
		if unit == "d" {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, errBadDuration
			}
			days += f
		} else {
			rest.WriteString(s[:j])
		}
		s = s[j:]
	}
	var d time.Duration
	if rest.Len() > 0 {
		var err error
		if d, err = time.ParseDuration(rest.String()); err != nil {
			return 0, errBadDuration
		}
	}
	total := float64(d) + days*float64(24*time.Hour)
	if total > math.MaxInt64 || orig == "" {
		return 0, errBadDuration
	}
	d = time.Duration(total)
	if neg {
		d = -d
	}
	return d, nil
}

// formatDuration prints d the way a person writes it in YAML: whole days as
// "7d", and without Go's trailing zero units ("1h", not "1h0m0s").
func formatDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
