package spec

import (
	"testing"
	"time"
)

// 2026 transitions used below (zdump -v ZONE):
//
//	America/New_York    gap 03-08 02:00->03:00 (07:00Z); back 11-01 02:00->01:00 (06:00Z)
//	Europe/Berlin       gap 03-29 02:00->03:00 (01:00Z); back 10-25 03:00->02:00 (01:00Z)
//	Australia/Lord_Howe back 04-05 02:00->01:30 (04-04 15:00Z); gap 10-04 02:00->02:30 (10-03 15:30Z)
//	Pacific/Chatham     back 04-05 03:45->02:45 (04-04 14:00Z); gap 09-27 02:45->03:45 (09-26 14:00Z)
//	America/Santiago    back 04-05 00:00->04-04 23:00 (03:00Z); gap 09-06 00:00->01:00 (04:00Z)
//	Asia/Kathmandu      +05:45 all year

type dstRow struct {
	name, expr, zone, from string
	want                   []string
}

func TestCronDST(t *testing.T) {
	t.Parallel()
	rows := []dstRow{
		// New York, spring forward: the gap wall time fires once, an hour
		// later in wall terms (03:30 EDT = 07:30Z), never skipped.
		{"ny gap daily", "30 2 * * *", "America/New_York", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"}},
		{"ny gap daily 6-field", "0 30 2 * * *", "America/New_York", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00"}},
		{"ny gap hourly no duplicate", "0 * * * *", "America/New_York", "2026-03-08T00:30:00-05:00",
			[]string{"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"}},
		{"ny gap every 30 no duplicate", "*/30 * * * *", "America/New_York", "2026-03-08T01:10:00-05:00",
			[]string{"2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00", "2026-03-08T04:00:00-04:00"}},
		// Asked just after the transition: 02:30 (gap) resolves to 07:30Z,
		// later than the asked 07:10Z although its wall time is earlier.
		{"ny gap asked after transition", "30 2 * * *", "America/New_York", "2026-03-08T03:10:00-04:00",
			[]string{"2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00"}},
		{"ny gap asked at the fire", "30 2 * * *", "America/New_York", "2026-03-08T03:30:00-04:00",
			[]string{"2026-03-09T02:30:00-04:00"}},
		// New York, fall back: first occurrence only.
		{"ny back daily", "30 1 * * *", "America/New_York", "2026-10-31T12:00:00-04:00",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
		{"ny back hourly", "0 * * * *", "America/New_York", "2026-11-01T00:30:00-04:00",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"}},
		{"ny back every 30", "*/30 * * * *", "America/New_York", "2026-11-01T00:45:00-04:00",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T02:30:00-05:00"}},
		{"ny back asked in second pass", "0 * * * *", "America/New_York", "2026-11-01T01:10:00-05:00",
			[]string{"2026-11-01T02:00:00-05:00"}},
		{"ny back every 30 asked in second pass", "*/30 * * * *", "America/New_York", "2026-11-01T01:10:00-05:00",
			[]string{"2026-11-01T02:00:00-05:00", "2026-11-01T02:30:00-05:00"}},
		// Berlin.
		{"berlin gap", "30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00+01:00",
			[]string{"2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"}},
		{"berlin back", "30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00+02:00",
			[]string{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}},
		{"berlin back half-hours", "*/30 2-3 * * *", "Europe/Berlin", "2026-10-25T00:00:00+02:00",
			[]string{"2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T03:00:00+01:00", "2026-10-25T03:30:00+01:00"}},
		{"berlin month ends", "0 0 31 * *", "Europe/Berlin", "2026-01-01T00:00:00+01:00",
			[]string{"2026-01-31T00:00:00+01:00", "2026-03-31T00:00:00+02:00", "2026-05-31T00:00:00+02:00", "2026-07-31T00:00:00+02:00", "2026-08-31T00:00:00+02:00"}},
		// Lord Howe: 30-minute DST.
		{"lord howe gap", "15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00+10:30",
			[]string{"2026-10-04T02:45:00+11:00", "2026-10-05T02:15:00+11:00"}},
		{"lord howe gap quarter hours", "*/15 2 * * *", "Australia/Lord_Howe", "2026-10-04T01:50:00+10:30",
			[]string{"2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00", "2026-10-05T02:00:00+11:00"}},
		// 02:15 is in the gap (-> 15:45Z) but 02:30 is real (-> 15:30Z):
		// the later wall time fires first, and each fires once.
		{"lord howe gap wall after real wall", "15,30 2 * * *", "Australia/Lord_Howe", "2026-10-04T01:50:00+10:30",
			[]string{"2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00", "2026-10-05T02:15:00+11:00"}},
		{"lord howe back", "45 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00:00+11:00",
			[]string{"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"}},
		// Kathmandu: odd offset, no DST.
		{"kathmandu", "30 2 * * *", "Asia/Kathmandu", "2026-03-07T12:00:00+05:45",
			[]string{"2026-03-08T02:30:00+05:45", "2026-03-09T02:30:00+05:45"}},
		// Chatham: +12:45/+13:45.
		{"chatham gap", "0 3 * * *", "Pacific/Chatham", "2026-09-26T12:00:00+12:45",
			[]string{"2026-09-27T04:00:00+13:45", "2026-09-28T03:00:00+13:45"}},
		{"chatham back", "0 3 * * *", "Pacific/Chatham", "2026-04-04T12:00:00+13:45",
			[]string{"2026-04-05T03:00:00+13:45", "2026-04-06T03:00:00+12:45"}},
		// Santiago: midnight is in the gap; the repeated hour is 23:00-24:00.
		{"santiago midnight gap", "0 0 * * *", "America/Santiago", "2026-09-05T12:00:00-04:00",
			[]string{"2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00"}},
		{"santiago gap hourly", "0 * * * *", "America/Santiago", "2026-09-05T22:30:00-04:00",
			[]string{"2026-09-05T23:00:00-04:00", "2026-09-06T01:00:00-03:00", "2026-09-06T02:00:00-03:00"}},
		{"santiago back", "30 23 * * *", "America/Santiago", "2026-04-04T12:00:00-03:00",
			[]string{"2026-04-04T23:30:00-03:00", "2026-04-05T23:30:00-04:00"}},
		// UTC, leap days and month ends.
		{"leap day", "0 12 29 2 *", "UTC", "2026-01-01T00:00:00Z",
			[]string{"2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z", "2036-02-29T12:00:00Z"}},
		{"day 31", "0 0 31 * *", "UTC", "2026-01-31T00:00:00Z",
			[]string{"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z"}},
		{"leap day in new york", "0 12 29 2 *", "America/New_York", "2028-02-28T12:00:00-05:00",
			[]string{"2028-02-29T12:00:00-05:00", "2032-02-29T12:00:00-05:00"}},
		{"descriptor daily", "@daily", "America/Santiago", "2026-09-05T12:00:00-04:00",
			[]string{"2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00"}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			loc := mustLoc(t, r.zone)
			s, err := Cron(r.expr, loc, Window{})
			if err != nil {
				t.Fatalf("Cron(%q): %v", r.expr, err)
			}
			got := fires(t, s, mustTime(t, r.from), len(r.want))
			if !equalStrings(got, r.want) {
				t.Errorf("Cron(%q) in %s from %s:\n got %q\nwant %q", r.expr, r.zone, r.from, got, r.want)
			}
		})
	}
}

type rruleRow struct {
	name, rule, zone, start, from string
	want                          []string // fires; a shorter list than asked means the rule ends
	ends                          bool     // no fire after the last of want
}

func TestRRuleDST(t *testing.T) {
	t.Parallel()
	rows := []rruleRow{
		{"ny gap daily", "FREQ=DAILY", "America/New_York", "2026-03-06T02:30:00", "2026-03-07T00:00:00-05:00",
			[]string{"2026-03-07T02:30:00-05:00", "2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00"}, false},
		{"ny gap hourly no duplicate", "RRULE:FREQ=HOURLY", "America/New_York", "2026-03-07T23:00:00", "2026-03-07T23:30:00-05:00",
			[]string{"2026-03-08T00:00:00-05:00", "2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"}, false},
		{"ny gap count collapses twin", "FREQ=HOURLY;COUNT=4", "America/New_York", "2026-03-08T00:00:00", "2026-03-07T00:00:00-05:00",
			[]string{"2026-03-08T00:00:00-05:00", "2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"}, true},
		{"ny gap asked after transition", "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "America/New_York", "2026-01-01T00:00:00", "2026-03-08T03:10:00-04:00",
			[]string{"2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00"}, false},
		{"ny back asked in second pass", "FREQ=MINUTELY;INTERVAL=30", "America/New_York", "2026-11-01T00:00:00", "2026-11-01T01:10:00-05:00",
			[]string{"2026-11-01T02:00:00-05:00", "2026-11-01T02:30:00-05:00"}, false},
		{"lord howe gap wall after real wall", "FREQ=DAILY;BYHOUR=2;BYMINUTE=15,30", "Australia/Lord_Howe", "2026-01-01T00:00:00", "2026-10-04T01:50:00+10:30",
			[]string{"2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00", "2026-10-05T02:15:00+11:00"}, false},
		{"ny back every 30", "FREQ=MINUTELY;INTERVAL=30", "America/New_York", "2026-11-01T00:00:00", "2026-11-01T00:00:00-04:00",
			[]string{"2026-11-01T00:30:00-04:00", "2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T02:00:00-05:00"}, false},
		{"ny back daily", "FREQ=DAILY;BYHOUR=1;BYMINUTE=30", "America/New_York", "2026-10-01T00:00:00", "2026-10-31T12:00:00-04:00",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}, false},
		{"ny until floating", "FREQ=DAILY;UNTIL=20260310T023000", "America/New_York", "2026-03-07T02:30:00", "2026-03-01T00:00:00-05:00",
			[]string{"2026-03-07T02:30:00-05:00", "2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"}, true},
		{"ny until utc inclusive", "FREQ=DAILY;UNTIL=20260310T063000Z", "America/New_York", "2026-03-07T02:30:00", "2026-03-01T00:00:00-05:00",
			[]string{"2026-03-07T02:30:00-05:00", "2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"}, true},
		{"ny until utc exclusive", "FREQ=DAILY;UNTIL=20260310T062959Z", "America/New_York", "2026-03-07T02:30:00", "2026-03-01T00:00:00-05:00",
			[]string{"2026-03-07T02:30:00-05:00", "2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00"}, true},
		{"ny until date", "FREQ=DAILY;UNTIL=20260309", "America/New_York", "2026-03-07T02:30:00", "2026-03-01T00:00:00-05:00",
			[]string{"2026-03-07T02:30:00-05:00", "2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00"}, true},
		{"berlin gap weekly", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30", "Europe/Berlin", "2026-01-01T00:00:00", "2026-03-20T00:00:00+01:00",
			[]string{"2026-03-22T02:30:00+01:00", "2026-03-29T03:30:00+02:00", "2026-04-05T02:30:00+02:00"}, false},
		{"berlin back weekly", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30", "Europe/Berlin", "2026-01-01T00:00:00", "2026-10-20T00:00:00+02:00",
			[]string{"2026-10-25T02:30:00+02:00", "2026-11-01T02:30:00+01:00"}, false},
		{"lord howe gap", "FREQ=DAILY;BYHOUR=2;BYMINUTE=15", "Australia/Lord_Howe", "2026-01-01T00:00:00", "2026-10-03T12:00:00+10:30",
			[]string{"2026-10-04T02:45:00+11:00", "2026-10-05T02:15:00+11:00"}, false},
		{"lord howe back", "FREQ=DAILY;BYHOUR=1;BYMINUTE=45", "Australia/Lord_Howe", "2026-01-01T00:00:00", "2026-04-04T12:00:00+11:00",
			[]string{"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"}, false},
		{"chatham gap", "FREQ=DAILY;BYHOUR=3;BYMINUTE=0", "Pacific/Chatham", "2026-01-01T00:00:00", "2026-09-26T12:00:00+12:45",
			[]string{"2026-09-27T04:00:00+13:45", "2026-09-28T03:00:00+13:45"}, false},
		{"chatham back", "FREQ=DAILY;BYHOUR=3;BYMINUTE=0", "Pacific/Chatham", "2026-01-01T00:00:00", "2026-04-04T12:00:00+13:45",
			[]string{"2026-04-05T03:00:00+13:45", "2026-04-06T03:00:00+12:45"}, false},
		{"santiago midnight gap", "FREQ=DAILY", "America/Santiago", "2026-09-01T00:00:00", "2026-09-05T00:00:00-04:00",
			[]string{"2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00"}, false},
		{"santiago back", "FREQ=DAILY;BYHOUR=23;BYMINUTE=30", "America/Santiago", "2026-01-01T00:00:00", "2026-04-04T12:00:00-03:00",
			[]string{"2026-04-04T23:30:00-03:00", "2026-04-05T23:30:00-04:00"}, false},
		{"kathmandu month end", "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0", "Asia/Kathmandu", "2026-01-01T00:00:00", "2026-01-15T00:00:00+05:45",
			[]string{"2026-01-31T09:00:00+05:45", "2026-02-28T09:00:00+05:45", "2026-03-31T09:00:00+05:45"}, false},
		{"leap day yearly", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "UTC", "2024-03-01T12:00:00", "2026-01-01T00:00:00Z",
			[]string{"2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"}, false},
		{"month end leap", "FREQ=MONTHLY;BYMONTHDAY=-1", "UTC", "2027-12-10T08:00:00", "2028-01-01T00:00:00Z",
			[]string{"2028-01-31T08:00:00Z", "2028-02-29T08:00:00Z", "2028-03-31T08:00:00Z"}, false},
		{"last weekday bysetpos", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "UTC", "2026-01-01T17:00:00", "2026-01-01T00:00:00Z",
			[]string{"2026-01-30T17:00:00Z", "2026-02-27T17:00:00Z", "2026-03-31T17:00:00Z"}, false},
		{"monthly day 31 skips short months", "FREQ=MONTHLY", "UTC", "2026-01-31T10:00:00", "2026-01-31T10:00:00Z",
			[]string{"2026-03-31T10:00:00Z", "2026-05-31T10:00:00Z"}, false},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			loc := mustLoc(t, r.zone)
			s, err := RRule(r.rule, mustCivil(t, r.start), loc, Window{})
			if err != nil {
				t.Fatalf("RRule(%q): %v", r.rule, err)
			}
			n := len(r.want)
			if r.ends {
				n++
			}
			got := fires(t, s, mustTime(t, r.from), n)
			if !equalStrings(got, r.want) {
				t.Errorf("RRule(%q) start %s in %s from %s:\n got %q\nwant %q", r.rule, r.start, r.zone, r.from, got, r.want)
			}
		})
	}
}

func TestParseAtDST(t *testing.T) {
	t.Parallel()
	rows := []struct{ in, zone, want string }{
		{"2026-03-08T02:30", "America/New_York", "2026-03-08T03:30:00-04:00"},
		{"2026-03-08T02:30:00", "America/New_York", "2026-03-08T03:30:00-04:00"},
		{"2026-11-01T01:30:00", "America/New_York", "2026-11-01T01:30:00-04:00"},
		{"2026-11-01T01:30:00-05:00", "America/New_York", "2026-11-01T01:30:00-05:00"}, // explicit offset wins
		{"2026-03-08T12:00:00Z", "America/New_York", "2026-03-08T08:00:00-04:00"},
		{"2026-03-29T02:30", "Europe/Berlin", "2026-03-29T03:30:00+02:00"},
		{"2026-10-25T02:30", "Europe/Berlin", "2026-10-25T02:30:00+02:00"},
		{"2026-10-04T02:15", "Australia/Lord_Howe", "2026-10-04T02:45:00+11:00"},
		{"2026-04-05T01:45", "Australia/Lord_Howe", "2026-04-05T01:45:00+11:00"},
		{"2026-03-08T02:30", "Asia/Kathmandu", "2026-03-08T02:30:00+05:45"},
		{"2026-09-27T03:00", "Pacific/Chatham", "2026-09-27T04:00:00+13:45"},
		{"2026-04-05T03:00", "Pacific/Chatham", "2026-04-05T03:00:00+13:45"},
		{"2026-09-06T00:00", "America/Santiago", "2026-09-06T01:00:00-03:00"},
		{"2026-04-04T23:30", "America/Santiago", "2026-04-04T23:30:00-03:00"},
		{"2028-02-29T12:00:00.25Z", "UTC", "2028-02-29T12:00:00.25Z"},
		{"2028-02-29T12:00", "UTC", "2028-02-29T12:00:00Z"},
	}
	for _, r := range rows {
		loc := mustLoc(t, r.zone)
		got, err := ParseAt(r.in, loc)
		if err != nil {
			t.Errorf("ParseAt(%q, %s): %v", r.in, r.zone, err)
			continue
		}
		if s := got.Format(time.RFC3339Nano); s != r.want {
			t.Errorf("ParseAt(%q, %s) = %s, want %s", r.in, r.zone, s, r.want)
		}
		// At fires once, at that instant.
		a := At(got)
		if n, ok := a.Next(got.Add(-time.Second)); !ok || !n.Equal(got) {
			t.Errorf("At(%s).Next(before) = %s, %v", r.want, n, ok)
		}
		if _, ok := a.Next(got); ok {
			t.Errorf("At(%s).Next(at) fired again", r.want)
		}
	}
}
