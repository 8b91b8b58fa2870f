package spec

import "math"

// Naive calendar arithmetic on int64 seconds and days since 1970-01-01 in
// the proleptic Gregorian calendar. It is done by hand rather than with
// time.Time because the planners call it on every step: these are a few
// integer operations, with no Location, no normalisation surprises and no
// allocation.

const secsPerDay = 86400

// The civil range the package plans in: years 0000-9999. Instants are
// bounded a little wider so that any offset (at most ±26h, far above the
// real ±15h) keeps arithmetic inside int64.
var (
	minNaive = daysFromCivil(0, 1, 1) * secsPerDay
	maxNaive = daysFromCivil(9999, 12, 31)*secsPerDay + secsPerDay - 1
)

const (
	maxOffset  = 26 * 3600
	minInstant = math.MinInt64
	maxInstant = math.MaxInt64
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// daysFromCivil returns the day number of y-m-d (1970-01-01 is 0). It is
// Howard Hinnant's days_from_civil; m and d may be out of range and then
// carry like time.Date does.
func daysFromCivil(y int64, m, d int) int64 {
	y += int64(floorDiv(int64(m-1), 12))
	m = int(floorMod(int64(m-1), 12)) + 1
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := int64((m + 9) % 12) // March is 0
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y int64, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// weekdayOfDays returns the weekday of day number z, 0 = Sunday (cron's
// numbering). 1970-01-01 was a Thursday.
func weekdayOfDays(z int64) int { return int(floorMod(z+4, 7)) }

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y int64, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
