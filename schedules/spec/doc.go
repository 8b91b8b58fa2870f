// Package spec compiles a schedule's timing (cron, RRULE or a one-shot
// instant) once and then answers "when is the next fire after t?".
//
// # Time-zone contract
//
// It owns Herald's time-zone semantics, the same for every kind: a schedule
// is a set of local wall-clock times in its zone, and each wall time maps to
// exactly one instant (Resolve):
//   - a wall time inside a DST gap takes the UTC offset in force before the
//     gap (RFC 5545: 02:30 on a spring-forward day in New York is 03:30 EDT,
//     07:30Z);
//   - a wall time that occurs twice (fall back) takes its first occurrence;
//   - wall times that map to the same instant fire once.
//
// So "0 * * * *" in New York on a fall-back night fires at 01:00 EDT and not
// again at 01:00 EST: the repeated hour's wall times were already used by
// the first pass. Posting twice in one night because the clock was turned
// back is the bug this package exists to prevent; a spec that wants elapsed
// time rather than wall times is not a calendar and is not supported
// (@every is rejected).
//
// # Why not the libraries' own zone handling
//
// The parsers are robfig/cron v3 and teambition/rrule-go, but neither steps
// correctly through DST in a real zone. Measured with v3.0.1 and v1.8.2
// (2026 transitions):
//
// robfig/cron, SpecSchedule with Location set to the zone:
//   - gap: "30 2 * * *" in America/New_York skips 2026-03-08 entirely (next
//     fire 2026-03-09T02:30-04:00); "0 0 * * *" in America/Santiago skips
//     2026-09-06 (midnight is in the gap); "15 2 * * *" in
//     Australia/Lord_Howe skips 2026-10-04.
//   - overlap: "30 1 * * *" in New York fires twice on 2026-11-01 (01:30
//     EDT and 01:30 EST), "0 * * * *" fires at 01:00 EDT and 01:00 EST, and
//     "45 1 * * *" in Lord_Howe fires at 01:45+11:00 and 01:45+10:30.
//
// rrule-go, DTSTART in the zone (it builds every occurrence with time.Date,
// whose choice in a gap is explicitly unspecified):
//   - gap: FREQ=DAILY at 02:30 in New York gives 2026-03-08T01:30-05:00, an
//     hour early (RFC 5545 says 03:30 EDT), and FREQ=HOURLY gives 01:00 EST
//     twice (the 02:00 wall time lands on 01:00 EST): a duplicate.
//   - midnight in the gap: FREQ=DAILY at 00:00 in Santiago emits
//     2026-09-05T00:00-04:00 twice and nothing on 09-06, because its day
//     arithmetic (AddDate from Jan 1 in the zone) lands on the previous day.
//   - overlap: first occurrence only (01:00 EDT, then 02:00 EST), which
//     happens to match this package's rule.
//   - time.Date itself is not consistent: 02:30 in New York's gap gives
//     01:30 EST (offset after the gap) but 02:15 in Lord_Howe's gap gives
//     02:45+11:00 (offset before).
//
// Other traps found while checking (and guarded against here): robfig
// panics on "TZ=UTC" without a following space; rrule-go panics on a
// numbered weekday past 5 within a month (FREQ=MONTHLY;BYDAY=53MO, or
// YEARLY;BYMONTH=1;BYDAY=-20MO), loops forever on a sub-daily counter that
// can never reach its BYHOUR (FREQ=HOURLY;INTERVAL=2;BYHOUR=1 from an even
// hour), iterates to year 9999 (seconds to minutes) looking for a rule that
// never fires, intersects numbered and plain weekdays (BYDAY=4SA,WE fires
// never, RFC 5545 means "4th Saturday and every Wednesday"), emits and
// counts a repeated BYxxx value twice, stops at DTSTART+290 years when
// there is no UNTIL, and reads a DTSTART of 0001-01-01T00:00:00Z as "now".
//
// Both libraries are therefore driven on naive wall-clock times (a time.Time
// in UTC that stands for a civil time, where stepping is exact calendar
// arithmetic), and this package maps each wall time to an instant itself.
// Because the mapping is not monotonic inside a gap, Next returns the
// minimum resolved instant after t (see nextInstant).
//
// # What it must not import
//
// Schedule maths here is pure: no clock, no I/O, no logging, no package
// state. The package imports nothing else of Herald's; schedules and the
// engine import it.
package spec
