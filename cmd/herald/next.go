package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/schedules/spec"
)

const nextHelp = `Lists the next N fire instants after --from (default now), one RFC 3339
instant per line with the UTC offset of the schedule's zone.

From a schedules file or folder:
  herald next PATH --schedule ID [--from T] [-n N] [--json]
Without a file:
  herald next --cron EXPR [--timezone Z] [--from T] [-n N]
  herald next --rrule RULE --start LOCAL [--timezone Z] [--from T] [-n N]
  herald next --at T [--timezone Z]

For a schedule from a file the instants include its deterministic jitter
(the time it will actually fire); --json shows the planned instant beside it.`

// maxNext bounds -n so that a typo cannot print forever.
const maxNext = 100000

// nextFire is one line of --json output.
type nextFire struct {
	Planned string `json:"planned"`
	Fire    string `json:"fire"`
}

type nextFlags struct {
	schedule, from, cron, rrule, start, at, timezone string
	n                                                int
	json                                             bool
}

func runNext(env *cliEnv, args []string) int {
	fs := newFlagSet("next", "[PATH --schedule ID | --cron EXPR | --rrule RULE --start LOCAL | --at T] [flags]", nextHelp, env.stderr)
	var f nextFlags
	fs.StringVar(&f.schedule, "schedule", "", "id of the schedule to show (with PATH)")
	fs.StringVar(&f.from, "from", "", "list fires strictly after this RFC 3339 instant (default now)")
	fs.IntVar(&f.n, "n", 10, "number of fire instants to list")
	fs.BoolVar(&f.json, "json", false, "print a JSON array of {planned, fire}")
	fs.StringVar(&f.cron, "cron", "", "an ad-hoc cron expression (5 or 6 fields, or @daily...)")
	fs.StringVar(&f.rrule, "rrule", "", "an ad-hoc RFC 5545 RRULE (needs --start)")
	fs.StringVar(&f.start, "start", "", "local wall time: DTSTART for --rrule, window start for --cron")
	fs.StringVar(&f.at, "at", "", "an ad-hoc one-shot time (RFC 3339, or local wall time in --timezone)")
	fs.StringVar(&f.timezone, "timezone", "UTC", "IANA time zone of an ad-hoc spec")
	paths, err := parseArgs(fs, args)
	if err != nil {
		return parseStatus(err)
	}
	if f.n < 1 || f.n > maxNext {
		return usageError(fs, "-n must be between 1 and %d, not %d", maxNext, f.n)
	}
	from := env.now()
	if f.from != "" {
		if from, err = time.Parse(time.RFC3339Nano, f.from); err != nil {
			return usageError(fs, "--from %q is not an RFC 3339 instant (like 2026-03-08T00:00:00Z)", f.from)
		}
	}

	next, status := nextSource(env, fs, &f, paths)
	if next == nil {
		return status
	}
	var fires []nextFire
	for t := from; len(fires) < f.n; {
		fire, ok := next(t)
		if !ok {
			break
		}
		fires = append(fires, nextFire{Planned: formatInstant(fire.Planned), Fire: formatInstant(fire.At)})
		t = fire.Planned
	}
	if f.json {
		if fires == nil {
			fires = []nextFire{}
		}
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(fires)
	} else {
		for _, fire := range fires {
			fmt.Fprintln(env.stdout, fire.Fire)
		}
	}
	if len(fires) < f.n {
		fmt.Fprintf(env.stderr, "herald next: no more fires after %d\n", len(fires))
	}
	return exitOK
}

// nextSource returns the function that yields the fire after an instant,
// from the schedules file or the ad-hoc flags, or nil and an exit status.
func nextSource(env *cliEnv, fs *flag.FlagSet, f *nextFlags, paths []string) (func(time.Time) (schedules.Fire, bool), int) {
	adhoc := 0
	for _, s := range []string{f.cron, f.rrule, f.at} {
		if s != "" {
			adhoc++
		}
	}
	switch {
	case len(paths) > 0 && adhoc > 0:
		return nil, usageError(fs, "give either PATH --schedule ID or one of --cron, --rrule, --at, not both")
	case len(paths) > 0:
		return scheduleSource(env, fs, f, paths)
	case adhoc == 0:
		return nil, usageError(fs, "next needs PATH --schedule ID, or one of --cron, --rrule, --at")
	case adhoc > 1:
		return nil, usageError(fs, "give exactly one of --cron, --rrule, --at")
	}
	s, err := adhocSpec(f)
	if err != nil {
		var ue usageErr
		if errors.As(err, &ue) {
			return nil, usageError(fs, "%s", string(ue))
		}
		fmt.Fprintf(env.stderr, "herald next: %v\n", err)
		return nil, exitCheck
	}
	return func(t time.Time) (schedules.Fire, bool) {
		p, ok := s.Next(t)
		return schedules.Fire{Planned: p, At: p}, ok
	}, exitOK
}

func scheduleSource(env *cliEnv, fs *flag.FlagSet, f *nextFlags, paths []string) (func(time.Time) (schedules.Fire, bool), int) {
	if f.schedule == "" {
		return nil, usageError(fs, "with PATH, --schedule ID names the schedule to show")
	}
	if f.start != "" || f.timezone != "UTC" {
		return nil, usageError(fs, "--start and --timezone apply to ad-hoc specs; a schedule's come from its file")
	}
	cfg, err := schedules.Load(schedules.LoadOptions{}, paths...)
	if err != nil {
		var diags schedules.Diagnostics
		if errors.As(err, &diags) {
			for _, d := range diags {
				fmt.Fprintln(env.stderr, d.String())
			}
			fmt.Fprintf(env.stderr, "herald next: the schedules are invalid (%d %s); run 'herald validate'\n", len(diags), plural(len(diags), "error", "errors"))
		} else {
			fmt.Fprintf(env.stderr, "herald next: %v\n", err)
		}
		return nil, exitCheck
	}
	s := cfg.Schedule(f.schedule)
	if s == nil {
		fmt.Fprintf(env.stderr, "herald next: no schedule with id %q in %v (%d schedules loaded)\n", f.schedule, paths, len(cfg.Schedules))
		return nil, exitCheck
	}
	if !s.Enabled {
		fmt.Fprintf(env.stderr, "herald next: schedule %q is disabled (enabled: false); it would fire at:\n", s.ID)
	}
	return s.NextFire, exitOK
}

// adhocSpec compiles the spec given by --cron, --rrule or --at. Mistakes in
// flag combinations are a usageErr; a bad expression is a failed check.
func adhocSpec(f *nextFlags) (spec.Spec, error) {
	loc, err := time.LoadLocation(f.timezone)
	if err != nil || f.timezone == "" || f.timezone == "Local" {
		return nil, usageErr(fmt.Sprintf("--timezone %q is not an IANA time zone name (like Europe/Berlin)", f.timezone))
	}
	var start spec.Civil
	if f.start != "" {
		if start, err = spec.ParseCivil(f.start); err != nil {
			return nil, usageErr("--start: " + err.Error())
		}
	}
	switch {
	case f.cron != "":
		s, err := spec.Cron(f.cron, loc, spec.Window{Start: start})
		if err != nil {
			return nil, fmt.Errorf("--cron %q: %w", f.cron, err)
		}
		return s, nil
	case f.rrule != "":
		if start.IsZero() {
			return nil, usageErr("--rrule needs --start LOCAL (its DTSTART, a wall time like 2026-01-05T09:00:00)")
		}
		s, err := spec.RRule(f.rrule, start, loc, spec.Window{})
		if err != nil {
			return nil, fmt.Errorf("--rrule %q: %w", f.rrule, err)
		}
		return s, nil
	default:
		if f.start != "" {
			return nil, usageErr("--start does not apply to --at")
		}
		t, err := spec.ParseAt(f.at, loc)
		if err != nil {
			return nil, fmt.Errorf("--at: %w", err)
		}
		return spec.At(t), nil
	}
}

// formatInstant prints an instant as RFC 3339 with its zone's offset,
// with fractional seconds only when there are any.
func formatInstant(t time.Time) string { return t.Format(time.RFC3339Nano) }
