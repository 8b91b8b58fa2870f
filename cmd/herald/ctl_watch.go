package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"

	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
)

func runCtlWatch(c *ctl, args []string) int {
	fs := c.flagSet("watch", `Streams job transitions as the node records them, one line per event,
until interrupted (Ctrl-C exits 0) or until the server ends the stream.
With --json each event is one JSON object on its own line. To resume
without missing anything, pass the last event id seen as --after.`)
	req := &adminv1.WatchJobEventsRequest{}
	fs.StringVar(&req.ScheduleId, "schedule", "", "only this schedule's jobs")
	fs.Int64Var(&req.AfterEventId, "after", 0, "start after this event id (0: only new events)")
	if _, code := c.start(fs, args); code != proceed {
		return code
	}
	if req.AfterEventId < 0 {
		return c.usageError(fs, "--after %d: want an event id, or 0 for new events only", req.AfterEventId)
	}
	// main owns signals: an interrupt is how a person ends a watch, so it
	// is a success, not a failure.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stream, err := c.client.WatchJobEvents(ctx, connect.NewRequest(req))
	if err != nil {
		if ctx.Err() != nil {
			return exitOK
		}
		return c.fail(err)
	}
	defer stream.Close()
	last := req.AfterEventId
	for stream.Receive() {
		msg := stream.Msg()
		last = msg.GetEvent().GetId()
		if err := c.writeEvent(msg); err != nil {
			return exitCheck
		}
	}
	if ctx.Err() != nil {
		return exitOK
	}
	if err := stream.Err(); err != nil {
		status := c.fail(err)
		if last > 0 {
			c.errorf("resume with --after %d", last)
		}
		return status
	}
	c.errorf("the server ended the stream after event %d; resume with --after %d", last, last)
	return exitOK
}

// writeEvent prints one event as a line: a JSON object with --json, else
// "AT  #EVENT  job ID  SCHEDULE  FROM -> TO  attempt N  node NODE  DETAIL".
func (c *ctl) writeEvent(m *adminv1.WatchJobEventsResponse) error {
	if c.json {
		b, err := protojson.Marshal(m)
		if err != nil {
			return err
		}
		_, err = c.env.stdout.Write(append(b, '\n'))
		return err
	}
	e, j := m.GetEvent(), m.GetJob()
	parts := []string{
		fmtTime(e.GetAt()),
		fmt.Sprintf("#%d", e.GetId()),
		fmt.Sprintf("job %d", e.GetJobId()),
		orDash(j.GetScheduleId()),
		fmt.Sprintf("%s -> %s", fromName(e.GetFrom()), statusName(e.GetTo())),
		fmt.Sprintf("attempt %d", e.GetAttempt()),
		"node " + orDash(e.GetNode()),
	}
	if len(j.GetPostIds()) > 0 && e.GetTo() == adminv1.JobStatus_JOB_STATUS_SUCCEEDED {
		parts = append(parts, "posts "+strings.Join(j.GetPostIds(), ","))
	}
	if e.GetDetail() != "" {
		parts = append(parts, cell(e.GetDetail(), 200))
	}
	_, err := fmt.Fprintln(c.env.stdout, strings.Join(parts, "  "))
	return err
}
