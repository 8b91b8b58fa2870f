package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
)

// The helpers here turn API values into table cells: instants in UTC
// RFC 3339, durations short, statuses as the README names them.

// fmtTime is an instant in UTC RFC 3339, or "-" when absent.
func fmtTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

// fmtWhen is an instant followed by how far it is from now ("in 5m",
// "3h ago"), for times a person wants to place at a glance.
func fmtWhen(ts *timestamppb.Timestamp, now time.Time) string {
	if ts == nil {
		return "-"
	}
	return fmtTime(ts) + " (" + relative(ts.AsTime().Sub(now)) + ")"
}

func relative(d time.Duration) string {
	switch {
	case d > -time.Second && d < time.Second:
		return "now"
	case d > 0:
		return "in " + shortDuration(d)
	}
	return shortDuration(-d) + " ago"
}

// shortDuration writes d to the second without zero units: 5m, 2h, 1h30m,
// and days beyond two days (3d4h), where hours alone get hard to read.
func shortDuration(d time.Duration) string {
	if d > 0 && d < time.Second {
		return d.String()
	}
	d = d.Round(time.Second)
	const day = 24 * time.Hour
	if d >= 2*day {
		days, rest := d/day, (d % day).Round(time.Hour)
		if rest == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%s", days, shortDuration(rest))
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func fmtDuration(d *durationpb.Duration) string {
	if d == nil {
		return "-"
	}
	return shortDuration(d.AsDuration())
}

// statusName is a job status as the README and the logs name it:
// JOB_STATUS_DEAD is "dead".
func statusName(s adminv1.JobStatus) string {
	if s == adminv1.JobStatus_JOB_STATUS_UNSPECIFIED {
		return "-"
	}
	return strings.ToLower(strings.TrimPrefix(s.String(), "JOB_STATUS_"))
}

// fromName is the status an event left: "new" for the event that created
// the job (the API leaves its from unset), as the metrics label it.
func fromName(s adminv1.JobStatus) string {
	if s == adminv1.JobStatus_JOB_STATUS_UNSPECIFIED {
		return "new"
	}
	return statusName(s)
}

// parseStatuses reads --status: names as statusName writes them,
// separated by commas.
func parseStatuses(s string) ([]adminv1.JobStatus, error) {
	var out []adminv1.JobStatus
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		v, ok := adminv1.JobStatus_value["JOB_STATUS_"+strings.ToUpper(name)]
		if !ok || v == 0 {
			return nil, fmt.Errorf("--status %q: want some of %s", name, strings.Join(statusNames(), ","))
		}
		out = append(out, adminv1.JobStatus(v))
	}
	return out, nil
}

func statusNames() []string {
	var vs []int
	for _, v := range adminv1.JobStatus_value {
		if v != 0 {
			vs = append(vs, int(v))
		}
	}
	sort.Ints(vs)
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = statusName(adminv1.JobStatus(v))
	}
	return names
}

// parseInstant reads an instant flag: RFC 3339, or a duration from now
// (2h is two hours from now, -24h a day ago).
func parseInstant(flagName, s string, now time.Time) (*timestamppb.Timestamp, error) {
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return timestamppb.New(t), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return timestamppb.New(now.Add(d)), nil
	}
	return nil, fmt.Errorf("--%s %q: want an RFC 3339 instant (2026-03-08T09:00:00Z) or a duration from now (2h, -24h)", flagName, s)
}

// cell makes free text fit one table cell: one line, at most max runes.
func cell(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
