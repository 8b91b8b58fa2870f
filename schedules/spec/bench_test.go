package spec

import (
	"testing"
	"time"
)

// benchNext steps s forward from from, wrapping back after a few years so
// every op is a realistic Next (zones are looked up in their tabulated
// range).
func benchNext(b *testing.B, s Spec, from time.Time) {
	b.Helper()
	limit := from.AddDate(4, 0, 0)
	t := from
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n, ok := s.Next(t)
		if !ok || n.After(limit) {
			t = from
			continue
		}
		t = n
	}
}

func BenchmarkCronNext(b *testing.B) {
	for _, c := range []struct{ name, expr, zone string }{
		{"5-field/UTC", "*/15 9-17 * * MON-FRI", "UTC"},
		{"5-field/Berlin", "*/15 9-17 * * MON-FRI", "Europe/Berlin"},
		{"6-field/UTC", "30 */15 9-17 * * MON-FRI", "UTC"},
		{"6-field/Berlin", "30 */15 9-17 * * MON-FRI", "Europe/Berlin"},
		{"daily/Berlin", "30 2 * * *", "Europe/Berlin"},
		{"leap-day/UTC", "0 12 29 2 *", "UTC"},
	} {
		b.Run(c.name, func(b *testing.B) {
			loc := mustLoc(b, c.zone)
			s, err := Cron(c.expr, loc, Window{})
			if err != nil {
				b.Fatal(err)
			}
			benchNext(b, s, time.Date(2026, 1, 1, 0, 0, 0, 0, loc))
		})
	}
}

func BenchmarkRRuleNext(b *testing.B) {
	for _, c := range []struct{ name, rule, zone string }{
		{"weekly-3y/Berlin", "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=9;BYMINUTE=0", "Europe/Berlin"},
		{"monthly-bysetpos-3y/New_York", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;BYHOUR=17", "America/New_York"},
		{"daily-3y/UTC", "FREQ=DAILY", "UTC"},
		{"yearly-3y/Berlin", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "Europe/Berlin"},
		{"hourly-count/Berlin", "FREQ=HOURLY;INTERVAL=5;COUNT=10000", "Europe/Berlin"},
	} {
		b.Run(c.name, func(b *testing.B) {
			loc := mustLoc(b, c.zone)
			s, err := RRule(c.rule, Civil{2023, 1, 2, 9, 0, 0}, loc, Window{})
			if err != nil {
				b.Fatal(err)
			}
			benchNext(b, s, time.Date(2026, 1, 1, 0, 0, 0, 0, loc))
		})
	}
}

func BenchmarkResolve(b *testing.B) {
	loc := mustLoc(b, "America/New_York")
	c := Civil{2026, 3, 8, 2, 30, 0}
	b.ReportAllocs()
	for b.Loop() {
		Resolve(c, loc)
	}
}

func BenchmarkCronCompile(b *testing.B) {
	loc := mustLoc(b, "Europe/Berlin")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Cron("*/15 9-17 * * MON-FRI", loc, Window{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJitter(b *testing.B) {
	t := time.Date(2026, 3, 8, 9, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		Jitter("schedule-42", t, time.Hour)
	}
}
