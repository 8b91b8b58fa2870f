package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
)

func runCtlSchedules(c *ctl, args []string) int {
	fs := c.flagSet("schedules", `Lists the loaded schedules by id with their state (active, disabled or
paused), next fire and latest job. Without --limit it lists them all.`)
	req := &adminv1.ListSchedulesRequest{}
	fs.StringVar(&req.Filter, "filter", "", "only schedules whose id or account contains this text")
	fs.StringVar(&req.Account, "account", "", "only this account's schedules")
	fs.BoolVar(&req.PausedOnly, "paused", false, "only paused schedules")
	limit := fs.Int("limit", 0, "at most N schedules (one page; the server allows up to 1000)")
	if _, code := c.start(fs, args); code != proceed {
		return code
	}
	if *limit < 0 {
		return c.usageError(fs, "--limit %d: want a positive number", *limit)
	}
	req.PageSize = int32(*limit)
	all := &adminv1.ListSchedulesResponse{}
	var err error
	all.NextPageToken, err = c.pages(*limit == 0, func(ctx context.Context, token string) (string, error) {
		req.PageToken = token
		resp, err := c.client.ListSchedules(ctx, connect.NewRequest(req))
		if err != nil {
			return "", err
		}
		all.Schedules = append(all.Schedules, resp.Msg.GetSchedules()...)
		all.TotalSize = resp.Msg.GetTotalSize()
		return resp.Msg.GetNextPageToken(), nil
	})
	if err != nil {
		return c.fail(err)
	}
	now := c.env.now()
	status := c.print(all, func(w io.Writer) {
		fmt.Fprintln(w, "ID\tACCOUNT\tSPEC\tZONE\tSTATE\tNEXT FIRE\tLAST JOB")
		for _, s := range all.Schedules {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.GetId(), orDash(s.GetAccount()),
				cell(s.GetKind()+" "+s.GetExpr(), 40), orDash(s.GetTimezone()), scheduleState(s),
				fmtWhen(s.GetNextFire(), now), lastJob(s.GetLastJob()))
		}
	})
	if status == exitOK && all.NextPageToken != "" && !c.json {
		c.errorf("showing %d of %d schedules; raise --limit, or drop it to list them all", len(all.Schedules), all.TotalSize)
	}
	return status
}

func runCtlSchedule(c *ctl, args []string) int {
	fs := c.flagSet("schedule", `Shows one schedule: its spec and where it is defined, whether it is
enabled or paused, its next fire times and its latest jobs.`)
	next := fs.Int("next", 0, "how many next fire times (server default 5, at most 100)")
	jobs := fs.Int("jobs", 0, "how many latest jobs (server default 10, at most 100)")
	pos, code := c.start(fs, args, "ID")
	if code != proceed {
		return code
	}
	if *next < 0 || *jobs < 0 {
		return c.usageError(fs, "--next and --jobs want a positive number")
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.GetSchedule(ctx, connect.NewRequest(&adminv1.GetScheduleRequest{
		Id: pos[0], Next: int32(*next), Jobs: int32(*jobs),
	}))
	if err != nil {
		return c.fail(err)
	}
	s := resp.Msg.GetSchedule()
	now := c.env.now()
	return c.print(resp.Msg, func(w io.Writer) {
		writeSchedule(w, s, now)
		fmt.Fprintln(w, "\nnext fires")
		if len(resp.Msg.GetNextFires()) == 0 {
			fmt.Fprintln(w, "  none")
		}
		for _, t := range resp.Msg.GetNextFires() {
			fmt.Fprintf(w, "  %s\n", fmtWhen(t, now))
		}
		fmt.Fprintln(w, "\nlatest jobs")
		if len(resp.Msg.GetLastJobs()) == 0 {
			fmt.Fprintln(w, "  none")
			return
		}
		writeJobs(w, resp.Msg.GetLastJobs())
	})
}

// writeSchedule writes a schedule's fields, one "key\tvalue" per line.
func writeSchedule(w io.Writer, s *adminv1.Schedule, now time.Time) {
	fmt.Fprintf(w, "id\t%s\n", s.GetId())
	fmt.Fprintf(w, "account\t%s\n", orDash(s.GetAccount()))
	fmt.Fprintf(w, "spec\t%s %s\n", s.GetKind(), s.GetExpr())
	fmt.Fprintf(w, "timezone\t%s\n", orDash(s.GetTimezone()))
	fmt.Fprintf(w, "state\t%s\n", scheduleState(s))
	if p := s.GetPause(); p != nil {
		fmt.Fprintf(w, "paused at\t%s\n", fmtTime(p.GetAt()))
		if p.GetNote() != "" {
			fmt.Fprintf(w, "pause note\t%s\n", cell(p.GetNote(), 200))
		}
	}
	if src := s.GetSource(); src != nil && src.GetFile() != "" {
		fmt.Fprintf(w, "source\t%s:%d:%d\n", src.GetFile(), src.GetLine(), src.GetColumn())
	}
	fmt.Fprintf(w, "next fire\t%s\n", fmtWhen(s.GetNextFire(), now))
	fmt.Fprintf(w, "jitter\t%s\n", fmtDuration(s.GetJitter()))
	fmt.Fprintf(w, "catchup\t%s\n", fmtDuration(s.GetCatchup()))
	fmt.Fprintf(w, "deadline\t%s\n", fmtDuration(s.GetDeadline()))
	fmt.Fprintf(w, "max attempts\t%d\n", s.GetMaxAttempts())
	if len(s.GetMetrics()) > 0 {
		stages := make([]string, len(s.GetMetrics()))
		for i, d := range s.GetMetrics() {
			stages[i] = fmtDuration(d)
		}
		fmt.Fprintf(w, "metrics\t%s\n", strings.Join(stages, ", "))
	}
	fmt.Fprintf(w, "text\t%s\n", cell(s.GetText(), 100))
	for i, t := range s.GetThread() {
		fmt.Fprintf(w, "thread %d\t%s\n", i+1, cell(t, 100))
	}
	for _, m := range s.GetMedia() {
		fmt.Fprintf(w, "media\t%s\n", m.GetPath())
	}
	fmt.Fprintf(w, "last job\t%s\n", lastJob(s.GetLastJob()))
}

// scheduleState is "disabled" (in the YAML), "paused" or "paused until T"
// (through the API), or "active".
func scheduleState(s *adminv1.Schedule) string {
	switch {
	case !s.GetEnabled():
		return "disabled"
	case s.GetPause() != nil && s.GetPause().GetUntil() != nil:
		return "paused until " + fmtTime(s.GetPause().GetUntil())
	case s.GetPause() != nil:
		return "paused"
	}
	return "active"
}

func lastJob(j *adminv1.Job) string {
	if j == nil {
		return "-"
	}
	return fmt.Sprintf("%d %s", j.GetId(), statusName(j.GetStatus()))
}

func runCtlPause(c *ctl, args []string) int {
	fs := c.flagSet("pause", `Pauses a schedule: its fires are skipped (recorded, not published) until
it is resumed, or until --until. The pause is kept in the store, so it
survives restarts and applies to every node. Pausing a paused schedule
replaces its pause.`)
	req := &adminv1.PauseScheduleRequest{}
	fs.StringVar(&req.Note, "note", "", "why, for the other operators (shown by schedule and status)")
	until := fs.String("until", "", "end the pause by itself at this RFC 3339 instant, or after this duration (2h)")
	pos, code := c.start(fs, args, "ID")
	if code != proceed {
		return code
	}
	req.Id = pos[0]
	t, err := parseInstant("until", *until, c.env.now())
	if err != nil {
		return c.usageError(fs, "%v", err)
	}
	req.Until = t
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.PauseSchedule(ctx, connect.NewRequest(req))
	if err != nil {
		return c.fail(err)
	}
	s := resp.Msg.GetSchedule()
	return c.print(resp.Msg, func(w io.Writer) {
		fmt.Fprintf(w, "%s: %s\n", s.GetId(), scheduleState(s))
	})
}

func runCtlResume(c *ctl, args []string) int {
	fs := c.flagSet("resume", `Ends a schedule's pause; its next fire publishes again. Resuming a schedule
that is not paused changes nothing.`)
	pos, code := c.start(fs, args, "ID")
	if code != proceed {
		return code
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.ResumeSchedule(ctx, connect.NewRequest(&adminv1.ResumeScheduleRequest{Id: pos[0]}))
	if err != nil {
		return c.fail(err)
	}
	s := resp.Msg.GetSchedule()
	return c.print(resp.Msg, func(w io.Writer) {
		fmt.Fprintf(w, "%s: %s, next fire %s\n", s.GetId(), scheduleState(s), fmtWhen(s.GetNextFire(), c.env.now()))
	})
}

func runCtlTrigger(c *ctl, args []string) int {
	fs := c.flagSet("trigger", `Fires a schedule now, once, as a job with trigger "manual"; its regular
fires are not changed. Prints the job created.`)
	pos, code := c.start(fs, args, "ID")
	if code != proceed {
		return code
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.TriggerSchedule(ctx, connect.NewRequest(&adminv1.TriggerScheduleRequest{Id: pos[0]}))
	if err != nil {
		return c.fail(err)
	}
	j := resp.Msg.GetJob()
	return c.print(resp.Msg, func(w io.Writer) {
		fmt.Fprintf(w, "%s: job %d %s, planned at %s\n", orDash(j.GetScheduleId()), j.GetId(), statusName(j.GetStatus()), fmtTime(j.GetPlannedAt()))
	})
}
