package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
	"github.com/herald-social/herald/proto/herald/admin/v1/adminv1connect"
)

// fakeAdmin is a test double of the admin API: canned schedules and jobs,
// the real API's errors and token roles. It keeps no state between calls,
// so parallel tests can share one.
type fakeAdmin struct {
	adminv1connect.UnimplementedAdminServiceHandler
	// reloadResult is what Reload answers: "ok" or "error".
	reloadResult string
	// watchEvents is how many events WatchJobEvents sends; then it ends
	// the stream, or with watchBlock waits for the client to go away.
	watchEvents int
	watchBlock  bool
}

// The fake's tokens and their roles, as HERALD_ADMIN_TOKENS would give them.
const (
	fakeAdminToken = "t-admin"
	fakeReadToken  = "t-read"
)

// fakePageSize is the fake's page size when a request asks for none; it
// is small so that following pages is exercised.
const fakePageSize = 2

var fakeT0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func fakeTS(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(fakeT0.Add(d)) }

// startFakeAdmin serves f over HTTP; the test's cleanup stops it.
func startFakeAdmin(t interface {
	Cleanup(func())
}, f *fakeAdmin) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle(adminv1connect.NewAdminServiceHandler(f))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// auth checks the bearer token like the real server: unauthenticated
// without a known token, permission_denied for a read token on a mutation.
// Its message echoes an unknown token, so that tests can show that herald
// ctl never prints one.
func fakeAuth(h http.Header, mutation bool, method string) error {
	got := strings.TrimPrefix(h.Get("Authorization"), "Bearer ")
	switch got {
	case fakeAdminToken:
		return nil
	case fakeReadToken:
		if mutation {
			return connect.NewError(connect.CodePermissionDenied, fmt.Errorf("a read token may not call %s", method))
		}
		return nil
	case "":
		return connect.NewError(connect.CodeUnauthenticated, errors.New("missing bearer token"))
	}
	return connect.NewError(connect.CodeUnauthenticated, fmt.Errorf("unknown bearer token %q", got))
}

func fakeJobs() []*adminv1.Job {
	return []*adminv1.Job{
		{Id: 42, ScheduleId: "daily-tip", PlannedAt: fakeTS(-48 * time.Hour), Status: adminv1.JobStatus_JOB_STATUS_SUCCEEDED,
			Attempt: 1, Run: 7, Trigger: "scheduled", Node: "n1", PostIds: []string{"1790000000000000001", "1790000000000000002"},
			FirstSentAt: fakeTS(-48*time.Hour + 3*time.Second),
			Post: &adminv1.FrozenPost{Account: "brand", Texts: []string{"Tip 7: pin your versions.\nRead more below.", "Why: reproducible builds."},
				Media: []*adminv1.FrozenMedia{
					{Path: "media/tip7.png", Alt: "a pinned version", Digest: "sha256:9f86d081884c7d65", Size: 20480,
						MediaId: "1790000000000000100", ExpiresAt: fakeTS(-24 * time.Hour)},
					{Path: "media/extra.png"},
				}}},
		{Id: 43, ScheduleId: "daily-tip", PlannedAt: fakeTS(-24 * time.Hour), Status: adminv1.JobStatus_JOB_STATUS_DEAD,
			Attempt: 3, Failures: 3, Run: 8, Trigger: "scheduled", Node: "n2", DeadReason: "exhausted",
			LastError: "x: 503 Service Unavailable", UpdatedAt: fakeTS(-23 * time.Hour)},
		{Id: 44, ScheduleId: "launch", PlannedAt: fakeTS(time.Hour), Status: adminv1.JobStatus_JOB_STATUS_PLANNED, Trigger: "manual"},
	}
}

func fakeSchedules() []*adminv1.Schedule {
	return []*adminv1.Schedule{
		{Id: "daily-tip", Account: "brand", Kind: "cron", Expr: "0 9 * * 1-5", Timezone: "Europe/Berlin", Enabled: true,
			NextFire: fakeTS(time.Hour), Jitter: durationpb.New(5 * time.Minute), MaxAttempts: 5, Text: "tip {{ .Run }}",
			Source: &adminv1.SourcePosition{File: "schedules/tips.yaml", Line: 4, Column: 7}, LastJob: fakeJobs()[0]},
		{Id: "launch", Account: "brand", Kind: "at", Expr: "2030-06-01T09:00:00", Timezone: "UTC", Enabled: true,
			Pause: &adminv1.Pause{Note: "freeze", At: fakeTS(0), Until: fakeTS(2 * time.Hour)}},
		{Id: "old-promo", Account: "other", Kind: "rrule", Expr: "FREQ=WEEKLY", Timezone: "UTC", Enabled: false},
	}
}

func fakeFindSchedule(id string) (*adminv1.Schedule, error) {
	for _, s := range fakeSchedules() {
		if s.Id == id {
			return s, nil
		}
	}
	return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("schedule %q is not loaded", id))
}

func fakeFindJob(id int64) (*adminv1.Job, error) {
	for _, j := range fakeJobs() {
		if j.Id == id {
			return j, nil
		}
	}
	return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("job %d not found", id))
}

// page cuts items to one page; the token is the offset of the next one.
func fakePage[T any](items []T, size int32, token string) ([]T, string, error) {
	if size < 0 || size > 1000 {
		return nil, "", connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("page_size: %d is not between 0 and 1000", size))
	}
	if size == 0 {
		size = fakePageSize
	}
	off := 0
	if token != "" {
		var err error
		if off, err = strconv.Atoi(token); err != nil || off > len(items) {
			return nil, "", connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("page_token: bad"))
		}
	}
	end := min(off+int(size), len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[off:end], next, nil
}

func (f *fakeAdmin) GetStatus(_ context.Context, req *connect.Request[adminv1.GetStatusRequest]) (*connect.Response[adminv1.GetStatusResponse], error) {
	if err := fakeAuth(req.Header(), false, "GetStatus"); err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.GetStatusResponse{
		NodeId: "n1", Version: "v1.2.3", StartedAt: fakeTS(-3 * time.Hour), ConfigRevision: "r-abc", ConfigCommit: "c0ffee",
		SchedulesLoaded: 3, LastReload: &adminv1.ReloadResult{Result: "ok", Trigger: "start", Revision: "r-abc", Added: 3, At: fakeTS(-3 * time.Hour)},
		Store: &adminv1.Health{State: "ok"}, Redis: &adminv1.Health{State: "not_configured"},
		StoreJobs: 12345, StoreJobsApproximate: true, OldestJobPlannedAt: fakeTS(-48 * time.Hour),
		Accounts: []*adminv1.AccountStatus{
			{Name: "brand", Auth: "oauth2", AuthState: adminv1.AuthState_AUTH_STATE_REAUTH_REQUIRED, Since: fakeTS(-time.Hour),
				Detail: "account brand: refreshing the OAuth 2.0 token: xapi token: HTTP 400 Bad Request: Value passed for the token was invalid."},
			{Name: "demo", Auth: "none", DryRun: true, AuthState: adminv1.AuthState_AUTH_STATE_OK},
			{Name: "other", Auth: "oauth2", AuthState: adminv1.AuthState_AUTH_STATE_REFRESH_IN_PROGRESS_FOUND, Since: fakeTS(-2 * time.Hour),
				Detail: "the answer of X's token endpoint was lost: X may have spent the refresh token"},
		},
	}), nil
}

func (f *fakeAdmin) ListSchedules(_ context.Context, req *connect.Request[adminv1.ListSchedulesRequest]) (*connect.Response[adminv1.ListSchedulesResponse], error) {
	if err := fakeAuth(req.Header(), false, "ListSchedules"); err != nil {
		return nil, err
	}
	m := req.Msg
	var match []*adminv1.Schedule
	for _, s := range fakeSchedules() {
		if (m.Filter == "" || strings.Contains(s.Id, m.Filter) || strings.Contains(s.Account, m.Filter)) &&
			(m.Account == "" || s.Account == m.Account) && (!m.PausedOnly || s.Pause != nil) {
			match = append(match, s)
		}
	}
	got, next, err := fakePage(match, m.PageSize, m.PageToken)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.ListSchedulesResponse{Schedules: got, NextPageToken: next, TotalSize: int32(len(match))}), nil
}

func (f *fakeAdmin) GetSchedule(_ context.Context, req *connect.Request[adminv1.GetScheduleRequest]) (*connect.Response[adminv1.GetScheduleResponse], error) {
	if err := fakeAuth(req.Header(), false, "GetSchedule"); err != nil {
		return nil, err
	}
	s, err := fakeFindSchedule(req.Msg.Id)
	if err != nil {
		return nil, err
	}
	n := int(req.Msg.Next)
	if n == 0 {
		n = 5
	}
	resp := &adminv1.GetScheduleResponse{Schedule: s}
	for i := range n {
		resp.NextFires = append(resp.NextFires, fakeTS(time.Hour+time.Duration(i)*24*time.Hour))
	}
	for _, j := range fakeJobs() {
		if j.ScheduleId == s.Id {
			resp.LastJobs = append([]*adminv1.Job{j}, resp.LastJobs...)
		}
	}
	return connect.NewResponse(resp), nil
}

func (f *fakeAdmin) PauseSchedule(_ context.Context, req *connect.Request[adminv1.PauseScheduleRequest]) (*connect.Response[adminv1.PauseScheduleResponse], error) {
	if err := fakeAuth(req.Header(), true, "PauseSchedule"); err != nil {
		return nil, err
	}
	s, err := fakeFindSchedule(req.Msg.Id)
	if err != nil {
		return nil, err
	}
	s.Pause = &adminv1.Pause{Note: req.Msg.Note, At: fakeTS(0), Until: req.Msg.Until}
	return connect.NewResponse(&adminv1.PauseScheduleResponse{Schedule: s}), nil
}

func (f *fakeAdmin) ResumeSchedule(_ context.Context, req *connect.Request[adminv1.ResumeScheduleRequest]) (*connect.Response[adminv1.ResumeScheduleResponse], error) {
	if err := fakeAuth(req.Header(), true, "ResumeSchedule"); err != nil {
		return nil, err
	}
	s, err := fakeFindSchedule(req.Msg.Id)
	if err != nil {
		return nil, err
	}
	s.Pause = nil
	return connect.NewResponse(&adminv1.ResumeScheduleResponse{Schedule: s}), nil
}

func (f *fakeAdmin) TriggerSchedule(_ context.Context, req *connect.Request[adminv1.TriggerScheduleRequest]) (*connect.Response[adminv1.TriggerScheduleResponse], error) {
	if err := fakeAuth(req.Header(), true, "TriggerSchedule"); err != nil {
		return nil, err
	}
	s, err := fakeFindSchedule(req.Msg.Id)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.TriggerScheduleResponse{Job: &adminv1.Job{
		Id: 100, ScheduleId: s.Id, PlannedAt: fakeTS(0), Status: adminv1.JobStatus_JOB_STATUS_PLANNED, Trigger: "manual",
	}}), nil
}

func (f *fakeAdmin) ListJobs(_ context.Context, req *connect.Request[adminv1.ListJobsRequest]) (*connect.Response[adminv1.ListJobsResponse], error) {
	if err := fakeAuth(req.Header(), false, "ListJobs"); err != nil {
		return nil, err
	}
	m := req.Msg
	var match []*adminv1.Job
	for _, j := range fakeJobs() {
		if (m.ScheduleId == "" || j.ScheduleId == m.ScheduleId) && fakeStatusIn(j.Status, m.Statuses) &&
			(m.PlannedFrom == nil || !j.PlannedAt.AsTime().Before(m.PlannedFrom.AsTime())) &&
			(m.PlannedTo == nil || j.PlannedAt.AsTime().Before(m.PlannedTo.AsTime())) {
			match = append(match, j)
		}
	}
	got, next, err := fakePage(match, m.PageSize, m.PageToken)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.ListJobsResponse{Jobs: got, NextPageToken: next}), nil
}

func fakeStatusIn(s adminv1.JobStatus, in []adminv1.JobStatus) bool {
	for _, x := range in {
		if x == s {
			return true
		}
	}
	return len(in) == 0
}

func (f *fakeAdmin) GetJob(_ context.Context, req *connect.Request[adminv1.GetJobRequest]) (*connect.Response[adminv1.GetJobResponse], error) {
	if err := fakeAuth(req.Header(), false, "GetJob"); err != nil {
		return nil, err
	}
	j, err := fakeFindJob(req.Msg.Id)
	if err != nil {
		return nil, err
	}
	const (
		planned   = adminv1.JobStatus_JOB_STATUS_PLANNED
		running   = adminv1.JobStatus_JOB_STATUS_RUNNING
		succeeded = adminv1.JobStatus_JOB_STATUS_SUCCEEDED
	)
	return connect.NewResponse(&adminv1.GetJobResponse{Job: j, Events: []*adminv1.JobEvent{
		{Id: 1, JobId: j.Id, At: fakeTS(-48 * time.Hour), To: planned, Node: "n1"},
		{Id: 2, JobId: j.Id, At: fakeTS(-48 * time.Hour), From: planned, To: running, Node: "n1", Attempt: 1},
		{Id: 3, JobId: j.Id, At: fakeTS(-48 * time.Hour), From: running, To: succeeded, Node: "n1", Attempt: 1, Detail: "posted 1790000000000000001"},
	}}), nil
}

// transition answers cancel and retry: job 43 (dead) may go to `to`, any
// other known job is in a state that does not allow it.
func fakeTransition(h http.Header, id int64, to adminv1.JobStatus, method string) (*adminv1.Job, error) {
	if err := fakeAuth(h, true, method); err != nil {
		return nil, err
	}
	j, err := fakeFindJob(id)
	if err != nil {
		return nil, err
	}
	if j.Status != adminv1.JobStatus_JOB_STATUS_DEAD {
		return nil, connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("job %d is %s: cannot go from %s to %s",
			j.Id, statusName(j.Status), statusName(j.Status), statusName(to)))
	}
	j.Status = to
	return j, nil
}

func (f *fakeAdmin) CancelJob(_ context.Context, req *connect.Request[adminv1.CancelJobRequest]) (*connect.Response[adminv1.CancelJobResponse], error) {
	j, err := fakeTransition(req.Header(), req.Msg.Id, adminv1.JobStatus_JOB_STATUS_CANCELLED, "CancelJob")
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.CancelJobResponse{Job: j}), nil
}

func (f *fakeAdmin) RetryJob(_ context.Context, req *connect.Request[adminv1.RetryJobRequest]) (*connect.Response[adminv1.RetryJobResponse], error) {
	j, err := fakeTransition(req.Header(), req.Msg.Id, adminv1.JobStatus_JOB_STATUS_PLANNED, "RetryJob")
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.RetryJobResponse{Job: j}), nil
}

func (f *fakeAdmin) ListDeadLetters(_ context.Context, req *connect.Request[adminv1.ListDeadLettersRequest]) (*connect.Response[adminv1.ListDeadLettersResponse], error) {
	if err := fakeAuth(req.Header(), false, "ListDeadLetters"); err != nil {
		return nil, err
	}
	var dead []*adminv1.Job
	for _, j := range fakeJobs() {
		if j.Status == adminv1.JobStatus_JOB_STATUS_DEAD && (req.Msg.ScheduleId == "" || j.ScheduleId == req.Msg.ScheduleId) {
			dead = append(dead, j)
		}
	}
	got, next, err := fakePage(dead, req.Msg.PageSize, req.Msg.PageToken)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.ListDeadLettersResponse{Jobs: got, NextPageToken: next}), nil
}

func (f *fakeAdmin) Reload(_ context.Context, req *connect.Request[adminv1.ReloadRequest]) (*connect.Response[adminv1.ReloadResponse], error) {
	if err := fakeAuth(req.Header(), true, "Reload"); err != nil {
		return nil, err
	}
	r := &adminv1.ReloadResult{Result: "ok", Trigger: "api", Revision: "r-def", Added: 1, Changed: 2, At: fakeTS(0)}
	if f.reloadResult == "error" {
		r = &adminv1.ReloadResult{Result: "error", Trigger: "api", Revision: "r-abc", At: fakeTS(0),
			Errors: []string{`schedules/tips.yaml:6:11: cron: field "hour": 25 out of range 0-23`}}
	}
	return connect.NewResponse(&adminv1.ReloadResponse{Result: r}), nil
}

func (f *fakeAdmin) WatchJobEvents(ctx context.Context, req *connect.Request[adminv1.WatchJobEventsRequest], stream *connect.ServerStream[adminv1.WatchJobEventsResponse]) error {
	if err := fakeAuth(req.Header(), false, "WatchJobEvents"); err != nil {
		return err
	}
	if id := req.Msg.ScheduleId; id != "" {
		if _, err := fakeFindSchedule(id); err != nil {
			return err
		}
	}
	job := fakeJobs()[0]
	for id := int64(1001); id <= int64(1000+f.watchEvents); id++ {
		if id <= req.Msg.AfterEventId {
			continue
		}
		err := stream.Send(&adminv1.WatchJobEventsResponse{
			Event: &adminv1.JobEvent{Id: id, JobId: job.Id, At: fakeTS(time.Duration(id) * time.Second),
				From: adminv1.JobStatus_JOB_STATUS_RUNNING, To: adminv1.JobStatus_JOB_STATUS_SUCCEEDED, Node: "n1", Attempt: 1},
			Job: job,
		})
		if err != nil {
			return err
		}
	}
	if f.watchBlock {
		<-ctx.Done()
	}
	return nil
}

// startNotHerald serves 404 for everything, like a server that is not
// Herald's, and returns its URL.
func startNotHerald(t interface{ Cleanup(func()) }) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	return srv.URL
}
