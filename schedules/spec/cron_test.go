package spec

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unsafe"
)

func TestCronDayRule(t *testing.T) {
	t.Parallel()
	// June 2026: Mondays are the 1st, 8th, 15th, 22nd and 29th.
	rows := []struct {
		expr string
		want []string
	}{
		// Both restricted: either matches (Vixie).
		{"0 0 1,15 * MON", []string{"2026-06-01", "2026-06-08", "2026-06-15", "2026-06-22", "2026-06-29", "2026-07-01", "2026-07-06"}},
		// Day-of-month starts with "*": both must match, so Mondays on odd days.
		{"0 0 */2 * MON", []string{"2026-06-01", "2026-06-15", "2026-06-29", "2026-07-13", "2026-07-27"}},
		{"0 0 ? * MON", []string{"2026-06-01", "2026-06-08", "2026-06-15"}},
		{"0 0 * * MON", []string{"2026-06-01", "2026-06-08", "2026-06-15"}},
		{"0 0 1 * *", []string{"2026-06-01", "2026-07-01", "2026-08-01"}},
		// Day-of-week starts with "*": both must match, so the 1st when it
		// falls on an even weekday (Sun, Tue, Thu, Sat).
		{"0 0 1 * */2", []string{"2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01"}},
		{"0 0 1-7 * SUN", []string{"2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04", "2026-06-05", "2026-06-06", "2026-06-07", "2026-06-14"}},
		{"0 0 * JUN-JUL MON-FRI", []string{"2026-06-01", "2026-06-02", "2026-06-03"}},
		{"@weekly", []string{"2026-06-07", "2026-06-14"}},
		{"@monthly", []string{"2026-06-01", "2026-07-01"}},
		{"@yearly", []string{"2027-01-01", "2028-01-01"}},
		{"@annually", []string{"2027-01-01"}},
		{"@midnight", []string{"2026-06-01", "2026-06-02"}},
	}
	for _, r := range rows {
		s, err := Cron(r.expr, time.UTC, Window{})
		if err != nil {
			t.Errorf("Cron(%q): %v", r.expr, err)
			continue
		}
		var got []string
		for _, f := range fires(t, s, mustTime(t, "2026-05-31T12:00:00Z"), len(r.want)) {
			got = append(got, f[:10])
		}
		if !equalStrings(got, r.want) {
			t.Errorf("Cron(%q):\n got %q\nwant %q", r.expr, got, r.want)
		}
	}
	s, _ := Cron("@hourly", time.UTC, Window{})
	if got := fires(t, s, mustTime(t, "2026-05-31T12:00:00Z"), 2); !equalStrings(got, []string{"2026-05-31T13:00:00Z", "2026-05-31T14:00:00Z"}) {
		t.Errorf("@hourly: %q", got)
	}
	s, _ = Cron("*/20 * * * * *", time.UTC, Window{})
	if got := fires(t, s, mustTime(t, "2026-05-31T12:00:00.5Z"), 3); !equalStrings(got, []string{"2026-05-31T12:00:20Z", "2026-05-31T12:00:40Z", "2026-05-31T12:01:00Z"}) {
		t.Errorf("seconds field: %q", got)
	}
}

func TestCronErrors(t *testing.T) {
	t.Parallel()
	rows := []struct {
		expr, want string
		never      bool
	}{
		{"", "cron: empty expression", false},
		{"   ", "cron: empty expression", false},
		{"0 25 * * *", `cron: field "hour": 25 out of range 0-23`, false},
		{"60 * * * *", `cron: field "minute": 60 out of range 0-59`, false},
		{"0 0 0 * *", `cron: field "day-of-month": 0 out of range 1-31`, false},
		{"0 0 * 13 *", `cron: field "month": 13 out of range 1-12`, false},
		{"0 0 * * 7", `cron: field "day-of-week": 7 out of range 0-6 (Sunday is 0 or SUN)`, false},
		{"61 0 0 * * *", `cron: field "second": 61 out of range 0-59`, false},
		{"0 0 * JANUARY *", `cron: field "month": "JANUARY" is not a number or a name`, false},
		{"0 0 L * *", `cron: field "day-of-month": "L" is not a number`, false},
		{"a b c d e", `cron: field "minute": "a" is not a number`, false},
		{"*/0 * * * *", `cron: field "minute": step "0" in "*/0" is not a positive number`, false},
		{"5-1 * * * *", `cron: field "minute": range "5-1" runs backwards`, false},
		{"1-2-3 * * * *", `cron: field "minute": "1-2-3" has more than one -`, false},
		{"1/2/3 * * * *", `cron: field "minute": "1/2/3" has more than one /`, false},
		{"* * *", `has 3 fields; want 5`, false},
		{"* * * * * * *", `has 7 fields; want 5`, false},
		{"@every 5m", "@every is not supported", false},
		{"@EVERY 1h", "@every is not supported", false},
		{"@fortnightly", `cron: unknown descriptor "@fortnightly"`, false},
		{"TZ=UTC 0 * * * *", "a TZ= or CRON_TZ= prefix is not allowed", false},
		{"CRON_TZ=Europe/Berlin 0 * * * *", "a TZ= or CRON_TZ= prefix is not allowed", false},
		{"tz=UTC", "a TZ= or CRON_TZ= prefix is not allowed", false},
		{"0 0 30 2 *", "never fires", true},
		{"0 0 31 2,4,6,9,11 *", "never fires", true},
		{"0 0 30,31 FEB ?", "never fires", true},
	}
	for _, r := range rows {
		_, err := Cron(r.expr, time.UTC, Window{})
		if err == nil {
			t.Errorf("Cron(%q): no error, want %q", r.expr, r.want)
			continue
		}
		if !strings.Contains(err.Error(), r.want) {
			t.Errorf("Cron(%q): %q, want it to contain %q", r.expr, err, r.want)
		}
		if !errors.Is(err, ErrInvalidCron) || errors.Is(err, ErrNeverFires) != r.never {
			t.Errorf("Cron(%q): %q: wrong sentinels", r.expr, err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("Cron(%q): message is not one line: %q", r.expr, err)
		}
	}
	// These look odd but do fire.
	for _, ok := range []string{"0 0 29 2 *", "0 0 30 2 MON", "0 0 31 * *", "  0  0 * * *  ", "0 0 * * SUN,sat", "@DAILY"} {
		if _, err := Cron(ok, time.UTC, Window{}); err != nil {
			t.Errorf("Cron(%q): %v", ok, err)
		}
	}
}

func TestCronWindow(t *testing.T) {
	t.Parallel()
	ny := mustLoc(t, "America/New_York")
	// Start at 01:30 and end at 05:00 on the spring-forward day: 02:00 (gap)
	// and 03:00 both resolve to 07:00Z; 05:00 EDT is excluded.
	w := Window{Start: mustCivil(t, "2026-03-08T01:30"), End: mustCivil(t, "2026-03-08T05:00")}
	s, err := Cron("0 * * * *", ny, w)
	if err != nil {
		t.Fatal(err)
	}
	got := fires(t, s, mustTime(t, "2026-03-07T00:00:00-05:00"), 5)
	if want := []string{"2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"}; !equalStrings(got, want) {
		t.Errorf("window fires %q, want %q", got, want)
	}
	// A window starting inside the gap starts at its resolved instant.
	s, _ = Cron("*/15 * * * *", ny, Window{Start: mustCivil(t, "2026-03-08T02:30")})
	got = fires(t, s, mustTime(t, "2026-03-08T00:00:00-05:00"), 2)
	if want := []string{"2026-03-08T03:30:00-04:00", "2026-03-08T03:45:00-04:00"}; !equalStrings(got, want) {
		t.Errorf("gap-start window fires %q, want %q", got, want)
	}
	if _, err := Cron("0 * * * *", ny, Window{Start: mustCivil(t, "2026-03-08T05:00"), End: mustCivil(t, "2026-03-08T01:00")}); !errors.Is(err, ErrInvalidWindow) {
		t.Errorf("reversed window: %v", err)
	}
}

func TestCronSpecIsSmall(t *testing.T) {
	t.Parallel()
	// A node may hold a million compiled crons.
	if n := unsafe.Sizeof(cronSpec{}); n > 64 {
		t.Errorf("cronSpec is %d bytes, want <= 64", n)
	}
}

func TestWindow(t *testing.T) {
	t.Parallel()
	rows := []struct {
		w    Window
		want string
	}{
		{Window{}, ""},
		{Window{Start: Civil{2026, 1, 1, 0, 0, 0}}, ""},
		{Window{Start: Civil{2026, 2, 1, 0, 0, 0}, End: Civil{2026, 1, 1, 0, 0, 0}}, "window: end 2026-01-01T00:00:00 is before start 2026-02-01T00:00:00"},
		{Window{Start: Civil{2026, 1, 1, 0, 0, 0}, End: Civil{2026, 1, 1, 0, 0, 0}}, "window: end 2026-01-01T00:00:00 equals start; the window is empty"},
		{Window{End: Civil{2026, 2, 30, 0, 0, 0}}, "window: end: civil: 2026-02-30T00:00:00 is not a valid wall time: day 30 out of range 1-28"},
		{Window{Start: Civil{2026, 1, 1, 24, 0, 0}}, "hour 24 out of range 0-23"},
	}
	for _, r := range rows {
		err := r.w.Validate()
		switch {
		case r.want == "" && err != nil:
			t.Errorf("%+v: %v", r.w, err)
		case r.want != "" && (err == nil || !strings.Contains(err.Error(), r.want) || !errors.Is(err, ErrInvalidWindow)):
			t.Errorf("%+v: %v, want %q", r.w, err, r.want)
		}
	}
	ny := mustLoc(t, "America/New_York")
	w := Window{Start: mustCivil(t, "2026-03-08T02:30"), End: mustCivil(t, "2026-03-09T00:00")}
	for _, c := range []struct {
		at string
		in bool
	}{
		{"2026-03-08T03:29:59.9-04:00", false},
		{"2026-03-08T03:30:00-04:00", true}, // 02:30 resolves to 03:30 EDT
		{"2026-03-08T23:59:59.999-04:00", true},
		{"2026-03-09T00:00:00-04:00", false},
	} {
		if got := w.Contains(mustTime(t, c.at), ny); got != c.in {
			t.Errorf("Contains(%s) = %v", c.at, got)
		}
	}
	if !(Window{}).Contains(time.Time{}, nil) {
		t.Error("an open window contains everything")
	}
}
