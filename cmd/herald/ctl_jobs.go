package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
)

func runCtlJobs(c *ctl, args []string) int {
	fs := c.flagSet("jobs", `Lists jobs by planned time, oldest first: one page of --limit jobs, or
every matching job with --all. --from and --to take an RFC 3339 instant or
a duration from now (-24h is a day ago); the range is [from, to).`)
	req := &adminv1.ListJobsRequest{}
	fs.StringVar(&req.ScheduleId, "schedule", "", "only this schedule's jobs")
	statuses := fs.String("status", "", "only jobs in these statuses, separated by commas ("+strings.Join(statusNames(), ",")+")")
	from := fs.String("from", "", "only jobs planned at or after this instant")
	to := fs.String("to", "", "only jobs planned before this instant")
	limit := fs.Int("limit", 0, "jobs per page (server default 100, at most 1000)")
	all := fs.Bool("all", false, "follow the pages to the last matching job")
	if _, code := c.start(fs, args); code != proceed {
		return code
	}
	var err error
	if req.Statuses, err = parseStatuses(*statuses); err != nil {
		return c.usageError(fs, "%v", err)
	}
	now := c.env.now()
	if req.PlannedFrom, err = parseInstant("from", *from, now); err != nil {
		return c.usageError(fs, "%v", err)
	}
	if req.PlannedTo, err = parseInstant("to", *to, now); err != nil {
		return c.usageError(fs, "%v", err)
	}
	if *limit < 0 {
		return c.usageError(fs, "--limit %d: want a positive number", *limit)
	}
	req.PageSize = int32(*limit)
	out := &adminv1.ListJobsResponse{}
	out.NextPageToken, err = c.pages(*all, func(ctx context.Context, token string) (string, error) {
		req.PageToken = token
		resp, err := c.client.ListJobs(ctx, connect.NewRequest(req))
		if err != nil {
			return "", err
		}
		out.Jobs = append(out.Jobs, resp.Msg.GetJobs()...)
		return resp.Msg.GetNextPageToken(), nil
	})
	if err != nil {
		return c.fail(err)
	}
	status := c.print(out, func(w io.Writer) { writeJobs(w, out.Jobs) })
	if status == exitOK && out.NextPageToken != "" && !c.json {
		c.errorf("more jobs match: use --all, or narrow with --from/--to")
	}
	return status
}

// writeJobs writes a table of jobs.
func writeJobs(w io.Writer, jobs []*adminv1.Job) {
	fmt.Fprintln(w, "ID\tSCHEDULE\tPLANNED\tSTATUS\tATTEMPT\tTRIGGER\tNODE\tPOSTS\tERROR")
	for _, j := range jobs {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", j.GetId(), orDash(j.GetScheduleId()),
			fmtTime(j.GetPlannedAt()), statusName(j.GetStatus()), j.GetAttempt(), orDash(j.GetTrigger()),
			orDash(j.GetNode()), orDash(strings.Join(j.GetPostIds(), ",")), cell(jobError(j), 60))
	}
}

// jobError is why a job failed: its dead reason and its last error.
func jobError(j *adminv1.Job) string {
	switch {
	case j.GetDeadReason() != "" && j.GetLastError() != "":
		return j.GetDeadReason() + ": " + j.GetLastError()
	case j.GetDeadReason() != "":
		return j.GetDeadReason()
	}
	return j.GetLastError()
}

func runCtlJob(c *ctl, args []string) int {
	fs := c.flagSet("job", `Shows one job and the timeline of its events, oldest first.`)
	pos, code := c.start(fs, args, "ID")
	if code != proceed {
		return code
	}
	id, code := c.parseID(fs, pos[0])
	if code != proceed {
		return code
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.GetJob(ctx, connect.NewRequest(&adminv1.GetJobRequest{Id: id}))
	if err != nil {
		return c.fail(err)
	}
	return c.print(resp.Msg, func(w io.Writer) {
		writeJob(w, resp.Msg.GetJob())
		fmt.Fprintln(w, "\nevents")
		fmt.Fprintln(w, "ID\tAT\tFROM\tTO\tNODE\tATTEMPT\tDETAIL")
		for _, e := range resp.Msg.GetEvents() {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", e.GetId(), fmtTime(e.GetAt()), fromName(e.GetFrom()),
				statusName(e.GetTo()), orDash(e.GetNode()), e.GetAttempt(), cell(e.GetDetail(), 80))
		}
	})
}

// writeJob writes a job's fields, one "key\tvalue" per line.
func writeJob(w io.Writer, j *adminv1.Job) {
	fmt.Fprintf(w, "id\t%d\n", j.GetId())
	fmt.Fprintf(w, "schedule\t%s\n", orDash(j.GetScheduleId()))
	st := statusName(j.GetStatus())
	if j.GetDeadReason() != "" {
		st += " (" + j.GetDeadReason() + ")"
	}
	fmt.Fprintf(w, "status\t%s\n", st)
	fmt.Fprintf(w, "trigger\t%s\n", orDash(j.GetTrigger()))
	fmt.Fprintf(w, "run\t%d\n", j.GetRun())
	fmt.Fprintf(w, "planned\t%s\n", fmtTime(j.GetPlannedAt()))
	fmt.Fprintf(w, "due\t%s\n", fmtTime(j.GetDueAt()))
	fmt.Fprintf(w, "attempt\t%d (%d failures)\n", j.GetAttempt(), j.GetFailures())
	fmt.Fprintf(w, "node\t%s\n", orDash(j.GetNode()))
	fmt.Fprintf(w, "fired by\t%s (revision %s)\n", orDash(j.GetFiredBy()), orDash(j.GetConfigRevision()))
	if j.GetLeaseUntil() != nil {
		fmt.Fprintf(w, "lease until\t%s\n", fmtTime(j.GetLeaseUntil()))
	}
	fmt.Fprintf(w, "posts\t%s\n", orDash(strings.Join(j.GetPostIds(), ", ")))
	fmt.Fprintf(w, "first sent\t%s\n", fmtTime(j.GetFirstSentAt()))
	writeFrozenPost(w, j.GetPost())
	if j.GetLastError() != "" {
		fmt.Fprintf(w, "last error\t%s\n", cell(j.GetLastError(), 200))
	}
	fmt.Fprintf(w, "correlation\t%s\n", orDash(j.GetCorrelationId()))
	fmt.Fprintf(w, "created\t%s\n", fmtTime(j.GetCreatedAt()))
	fmt.Fprintf(w, "updated\t%s\n", fmtTime(j.GetUpdatedAt()))
}

// writeFrozenPost writes the post frozen on a job: its account, each text
// of the thread, and each media with what its upload recorded.
func writeFrozenPost(w io.Writer, p *adminv1.FrozenPost) {
	if p == nil {
		fmt.Fprintf(w, "post\t- (not frozen yet)\n")
		return
	}
	fmt.Fprintf(w, "account\t%s\n", orDash(p.GetAccount()))
	texts := p.GetTexts()
	for i, t := range texts {
		name := "post"
		if len(texts) > 1 {
			name = fmt.Sprintf("post %d/%d", i+1, len(texts))
		}
		fmt.Fprintf(w, "%s\t%s\n", name, cell(t, 1000))
	}
	for i, m := range p.GetMedia() {
		line := m.GetPath()
		if m.GetAlt() != "" {
			line += fmt.Sprintf(" (alt %q)", m.GetAlt())
		}
		if m.GetDigest() == "" && m.GetMediaId() == "" {
			line += ", not uploaded yet"
		} else {
			line += fmt.Sprintf(", %s, %d bytes, media id %s", orDash(m.GetDigest()), m.GetSize(), orDash(m.GetMediaId()))
			if m.GetExpiresAt() != nil {
				line += " until " + fmtTime(m.GetExpiresAt())
			}
		}
		fmt.Fprintf(w, "media %d\t%s\n", i+1, cell(line, 1000))
	}
}

func runCtlCancel(c *ctl, args []string) int {
	fs := c.flagSet("cancel", `Cancels a planned, retrying or dead job; it will not be published. Another
status exits 5 (failed precondition).`)
	note := fs.String("note", "", "why, recorded in the job's cancel event")
	return c.jobChange(fs, args, func(id int64) (*adminv1.Job, proto.Message, error) {
		ctx, cancel := c.ctx()
		defer cancel()
		resp, err := c.client.CancelJob(ctx, connect.NewRequest(&adminv1.CancelJobRequest{Id: id, Note: *note}))
		if err != nil {
			return nil, nil, err
		}
		return resp.Msg.GetJob(), resp.Msg, nil
	})
}

func runCtlRetry(c *ctl, args []string) int {
	fs := c.flagSet("retry", `Sends a dead job back to planned with a fresh attempt budget. Another
status exits 5 (failed precondition).`)
	note := fs.String("note", "", "why, recorded in the job's retry event")
	return c.jobChange(fs, args, func(id int64) (*adminv1.Job, proto.Message, error) {
		ctx, cancel := c.ctx()
		defer cancel()
		resp, err := c.client.RetryJob(ctx, connect.NewRequest(&adminv1.RetryJobRequest{Id: id, Note: *note}))
		if err != nil {
			return nil, nil, err
		}
		return resp.Msg.GetJob(), resp.Msg, nil
	})
}

// jobChange runs cancel or retry: parse the job id, call, print the job's
// new status.
func (c *ctl) jobChange(fs *flag.FlagSet, args []string, call func(id int64) (*adminv1.Job, proto.Message, error)) int {
	pos, code := c.start(fs, args, "ID")
	if code != proceed {
		return code
	}
	id, code := c.parseID(fs, pos[0])
	if code != proceed {
		return code
	}
	j, msg, err := call(id)
	if err != nil {
		return c.fail(err)
	}
	return c.print(msg, func(w io.Writer) {
		fmt.Fprintf(w, "job %d (%s): %s\n", j.GetId(), orDash(j.GetScheduleId()), statusName(j.GetStatus()))
	})
}

func runCtlDead(c *ctl, args []string) int {
	fs := c.flagSet("dead", `Lists the dead letters: jobs that will not be published unless retried
(herald ctl retry ID) or cancelled. Without --limit it lists them all.`)
	req := &adminv1.ListDeadLettersRequest{}
	fs.StringVar(&req.ScheduleId, "schedule", "", "only this schedule's dead letters")
	limit := fs.Int("limit", 0, "at most N dead letters (one page)")
	if _, code := c.start(fs, args); code != proceed {
		return code
	}
	if *limit < 0 {
		return c.usageError(fs, "--limit %d: want a positive number", *limit)
	}
	req.PageSize = int32(*limit)
	out := &adminv1.ListDeadLettersResponse{}
	var err error
	out.NextPageToken, err = c.pages(*limit == 0, func(ctx context.Context, token string) (string, error) {
		req.PageToken = token
		resp, err := c.client.ListDeadLetters(ctx, connect.NewRequest(req))
		if err != nil {
			return "", err
		}
		out.Jobs = append(out.Jobs, resp.Msg.GetJobs()...)
		return resp.Msg.GetNextPageToken(), nil
	})
	if err != nil {
		return c.fail(err)
	}
	status := c.print(out, func(w io.Writer) {
		fmt.Fprintln(w, "ID\tSCHEDULE\tPLANNED\tREASON\tFAILURES\tSINCE\tERROR")
		for _, j := range out.Jobs {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", j.GetId(), orDash(j.GetScheduleId()),
				fmtTime(j.GetPlannedAt()), orDash(j.GetDeadReason()), j.GetFailures(),
				fmtTime(j.GetUpdatedAt()), cell(j.GetLastError(), 60))
		}
	})
	if status == exitOK && out.NextPageToken != "" && !c.json {
		c.errorf("more dead letters: raise --limit, or drop it to list them all")
	}
	return status
}
