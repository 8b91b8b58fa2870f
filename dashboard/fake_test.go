package dashboard_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/herald-social/herald/dashboard"
	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
	"github.com/herald-social/herald/proto/herald/admin/v1/adminv1connect"
)

// fakeAPI is a test double of the admin API with the real one's contract
// (tokens and roles, codes, paging) over a small in-memory state, so the
// page can be driven through every view without a node.
type fakeAPI struct {
	adminv1connect.UnimplementedAdminServiceHandler

	tokens map[string]string // token -> "read" or "admin"; none: no auth

	mu        sync.Mutex
	status    *adminv1.GetStatusResponse
	reloadTo  *adminv1.ReloadResult // what Reload answers, and the status after
	schedules []*adminv1.Schedule
	jobs      []*adminv1.Job // by planned time
	events    map[int64][]*adminv1.JobEvent
	metrics   map[int64][]*adminv1.MetricsSnapshot

	// live carries what WatchJobEvents sends; a nil message ends the
	// stream (a drop). watches receives every call's after_event_id.
	live    chan *adminv1.WatchJobEventsResponse
	watches chan int64
	stop    chan struct{} // closed when the server stops: streams end
}

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ts(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(base.Add(d)) }

// newFakeAPI has two schedules; 60 jobs of every-second (the last one
// succeeded, with a timeline and metrics at three stages) and one dead job
// of hourly.
func newFakeAPI(tokens map[string]string) *fakeAPI {
	f := &fakeAPI{
		tokens: tokens,
		status: &adminv1.GetStatusResponse{
			NodeId: "node-a", Version: "v1.2.3", StartedAt: ts(0), ConfigRevision: "rev-0123456789abcdef",
			SchedulesLoaded: 2, DryRun: true,
			LastReload: &adminv1.ReloadResult{Result: "ok", Trigger: "start", Revision: "rev-0123456789abcdef", Added: 2, At: ts(0)},
			Store:      &adminv1.Health{State: "ok"}, Redis: &adminv1.Health{State: "not_configured"},
			Warnings: []string{"2 live nodes share this store without Redis: every node writes every fire and counts rate limits alone"},
			Accounts: []*adminv1.AccountStatus{
				{Name: "brand", Auth: "oauth2", AuthState: adminv1.AuthState_AUTH_STATE_OK},
				{Name: "news", Auth: "oauth1", DryRun: true, AuthState: adminv1.AuthState_AUTH_STATE_OK},
			},
		},
		events:  map[int64][]*adminv1.JobEvent{},
		metrics: map[int64][]*adminv1.MetricsSnapshot{},
		live:    make(chan *adminv1.WatchJobEventsResponse),
		watches: make(chan int64, 16),
		stop:    make(chan struct{}),
	}
	f.schedules = []*adminv1.Schedule{
		{Id: "every-second", Account: "brand", Kind: "cron", Expr: "* * * * * *", Timezone: "UTC", Enabled: true, NextFire: ts(61 * time.Second)},
		{Id: "hourly", Account: "news", Kind: "cron", Expr: "0 * * * *", Timezone: "Europe/Paris", Enabled: true, NextFire: ts(time.Hour)},
	}
	for i := int64(1); i <= 60; i++ {
		j := &adminv1.Job{Id: i, ScheduleId: "every-second", PlannedAt: ts(time.Duration(i) * time.Second),
			Status: adminv1.JobStatus_JOB_STATUS_PLANNED, Run: i, Trigger: "scheduled", CorrelationId: fmt.Sprintf("c-%d", i)}
		f.jobs = append(f.jobs, j)
	}
	last := f.jobs[59]
	last.Status, last.Attempt, last.Node, last.PostIds = adminv1.JobStatus_JOB_STATUS_SUCCEEDED, 1, "node-a", []string{"1900000000000000060"}
	last.FirstSentAt = ts(60*time.Second + 500*time.Millisecond)
	last.Post = &adminv1.FrozenPost{Account: "brand", Texts: []string{"Run 60: <b>not bold</b>\nsecond line", "and a reply"},
		Media: []*adminv1.FrozenMedia{
			{Path: "media/run.png", Alt: "a chart", Digest: "sha256:2c26b46b68ffc68f", Size: 20480, MediaId: "1900000000000000100", ExpiresAt: ts(24 * time.Hour)},
			{Path: "media/later.gif"},
		}}
	f.events[60] = []*adminv1.JobEvent{
		{Id: 100, JobId: 60, At: ts(59 * time.Second), To: adminv1.JobStatus_JOB_STATUS_PLANNED, Node: "node-a"},
		{Id: 101, JobId: 60, At: ts(60 * time.Second), From: adminv1.JobStatus_JOB_STATUS_PLANNED, To: adminv1.JobStatus_JOB_STATUS_RUNNING, Node: "node-a", Attempt: 1},
		{Id: 102, JobId: 60, At: ts(61 * time.Second), From: adminv1.JobStatus_JOB_STATUS_RUNNING, To: adminv1.JobStatus_JOB_STATUS_SUCCEEDED, Node: "node-a", Attempt: 1, Detail: "posted 1900000000000000060"},
	}
	for i, stage := range []time.Duration{time.Hour, 24 * time.Hour, 7 * 24 * time.Hour} {
		n := int64(i + 1)
		f.metrics[60] = append(f.metrics[60], &adminv1.MetricsSnapshot{PostId: "1900000000000000060", Stage: durationpb.New(stage),
			Likes: 10 * n, Reposts: 2 * n, Replies: n, Impressions: 1000 * n})
	}
	f.schedules[0].LastJob = last
	dead := &adminv1.Job{Id: 61, ScheduleId: "hourly", PlannedAt: ts(time.Hour), Status: adminv1.JobStatus_JOB_STATUS_DEAD,
		Attempt: 3, Failures: 3, Trigger: "scheduled", LastError: "x: 403 Forbidden", DeadReason: "rejected"}
	f.jobs = append(f.jobs, dead)
	f.schedules[1].LastJob = dead
	return f
}

// serve starts the page and the fake API on one test server, as herald
// serve mounts them.
func (f *fakeAPI) serve(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(adminv1connect.NewAdminServiceHandler(f))
	mux.Handle("/", dashboard.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		// The page's event stream is a request that never ends by itself,
		// and the page reconnects when it drops: refuse new connections
		// first, then end the streams.
		srv.Listener.Close()
		close(f.stop)
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL
}

func (f *fakeAPI) auth(h http.Header, admin bool) error {
	if len(f.tokens) == 0 {
		return nil
	}
	token, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	role, known := f.tokens[token]
	switch {
	case !ok || !known:
		return connect.NewError(connect.CodeUnauthenticated, errors.New("unknown token"))
	case admin && role != "admin":
		return connect.NewError(connect.CodePermissionDenied, errors.New("a read token cannot change anything"))
	}
	return nil
}

func (f *fakeAPI) schedule(id string) (*adminv1.Schedule, error) {
	for _, s := range f.schedules {
		if s.Id == id {
			return s, nil
		}
	}
	return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("schedule %q not found", id))
}

func (f *fakeAPI) job(id int64) (*adminv1.Job, error) {
	for _, j := range f.jobs {
		if j.Id == id {
			return j, nil
		}
	}
	return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("job %d not found", id))
}

// paused reports a schedule's pause, for the tests' assertions.
func (f *fakeAPI) paused(id string) *adminv1.Pause {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, _ := f.schedule(id)
	return proto.CloneOf(s.Pause)
}

func (f *fakeAPI) jobStatus(id int64) adminv1.JobStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, _ := f.job(id)
	return j.Status
}

func (f *fakeAPI) GetStatus(_ context.Context, req *connect.Request[adminv1.GetStatusRequest]) (*connect.Response[adminv1.GetStatusResponse], error) {
	if err := f.auth(req.Header(), false); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return connect.NewResponse(proto.CloneOf(f.status)), nil
}

func (f *fakeAPI) ListNodes(_ context.Context, req *connect.Request[adminv1.ListNodesRequest]) (*connect.Response[adminv1.ListNodesResponse], error) {
	if err := f.auth(req.Header(), false); err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.ListNodesResponse{Nodes: []*adminv1.Node{
		{Id: "node-a", Version: "v1.2.3", ConfigRevision: "rev-0123456789abcdef", StartedAt: ts(0), LastSeen: ts(time.Minute), Alive: true,
			Address: "http://node-a:8080", RedisHealth: "ok", StoreHealth: "ok", JobsInFlight: 2},
		{Id: "node-b", Version: "v1.2.2", ConfigRevision: "rev-0123456789abcdef", StartedAt: ts(0), LastSeen: ts(0)},
		{Id: "node-c", Version: "v1.2.3", ConfigRevision: "rev-fedcba9876543210", StartedAt: ts(0), LastSeen: ts(time.Minute), Alive: true,
			Address: "http://node-c:8080", RedisHealth: "degraded: i/o timeout", StoreHealth: "ok", RevisionMismatch: true},
	}}), nil
}

func (f *fakeAPI) ListSchedules(_ context.Context, req *connect.Request[adminv1.ListSchedulesRequest]) (*connect.Response[adminv1.ListSchedulesResponse], error) {
	if err := f.auth(req.Header(), false); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := req.Msg
	resp := &adminv1.ListSchedulesResponse{}
	for _, s := range f.schedules {
		if (m.Filter == "" || strings.Contains(s.Id, m.Filter) || strings.Contains(s.Account, m.Filter)) && (!m.PausedOnly || s.Pause != nil) {
			resp.Schedules = append(resp.Schedules, proto.CloneOf(s))
		}
	}
	resp.TotalSize = int32(len(resp.Schedules))
	return connect.NewResponse(resp), nil
}

func (f *fakeAPI) GetSchedule(_ context.Context, req *connect.Request[adminv1.GetScheduleRequest]) (*connect.Response[adminv1.GetScheduleResponse], error) {
	if err := f.auth(req.Header(), false); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.schedule(req.Msg.Id)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.GetScheduleResponse{Schedule: proto.CloneOf(s)}), nil
}

func (f *fakeAPI) PauseSchedule(_ context.Context, req *connect.Request[adminv1.PauseScheduleRequest]) (*connect.Response[adminv1.PauseScheduleResponse], error) {
	if err := f.auth(req.Header(), true); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.schedule(req.Msg.Id)
	if err != nil {
		return nil, err
	}
	s.Pause = &adminv1.Pause{Note: req.Msg.Note, At: ts(2 * time.Minute), Until: req.Msg.Until}
	return connect.NewResponse(&adminv1.PauseScheduleResponse{Schedule: proto.CloneOf(s)}), nil
}

func (f *fakeAPI) ResumeSchedule(_ context.Context, req *connect.Request[adminv1.ResumeScheduleRequest]) (*connect.Response[adminv1.ResumeScheduleResponse], error) {
	if err := f.auth(req.Header(), true); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.schedule(req.Msg.Id)
	if err != nil {
		return nil, err
	}
	s.Pause = nil
	return connect.NewResponse(&adminv1.ResumeScheduleResponse{Schedule: proto.CloneOf(s)}), nil
}

func (f *fakeAPI) TriggerSchedule(_ context.Context, req *connect.Request[adminv1.TriggerScheduleRequest]) (*connect.Response[adminv1.TriggerScheduleResponse], error) {
	if err := f.auth(req.Header(), true); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.schedule(req.Msg.Id); err != nil {
		return nil, err
	}
	j := &adminv1.Job{Id: int64(len(f.jobs) + 1), ScheduleId: req.Msg.Id, PlannedAt: ts(3 * time.Minute),
		Status: adminv1.JobStatus_JOB_STATUS_PLANNED, Trigger: "manual"}
	f.jobs = append(f.jobs, j)
	return connect.NewResponse(&adminv1.TriggerScheduleResponse{Job: proto.CloneOf(j)}), nil
}

// page cuts a list by an offset page token.
func page[T any](all []T, size int32, token string) ([]T, string, error) {
	off := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 || n > len(all) {
			return nil, "", connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("page_token: %q is not a token of this list", token))
		}
		off = n
	}
	if size <= 0 {
		size = 100
	}
	end := min(off+int(size), len(all))
	next := ""
	if end < len(all) {
		next = strconv.Itoa(end)
	}
	return all[off:end], next, nil
}

func (f *fakeAPI) ListJobs(_ context.Context, req *connect.Request[adminv1.ListJobsRequest]) (*connect.Response[adminv1.ListJobsResponse], error) {
	if err := f.auth(req.Header(), false); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := req.Msg
	var match []*adminv1.Job
	for _, j := range f.jobs {
		if (m.ScheduleId == "" || j.ScheduleId == m.ScheduleId) && (len(m.Statuses) == 0 || slices.Contains(m.Statuses, j.Status)) &&
			(m.PlannedFrom == nil || !j.PlannedAt.AsTime().Before(m.PlannedFrom.AsTime())) &&
			(m.PlannedTo == nil || j.PlannedAt.AsTime().Before(m.PlannedTo.AsTime())) {
			match = append(match, proto.CloneOf(j))
		}
	}
	jobs, next, err := page(match, m.PageSize, m.PageToken)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.ListJobsResponse{Jobs: jobs, NextPageToken: next}), nil
}

func (f *fakeAPI) GetJob(_ context.Context, req *connect.Request[adminv1.GetJobRequest]) (*connect.Response[adminv1.GetJobResponse], error) {
	if err := f.auth(req.Header(), false); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	j, err := f.job(req.Msg.Id)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.GetJobResponse{Job: proto.CloneOf(j), Events: f.events[j.Id]}), nil
}

func (f *fakeAPI) CancelJob(_ context.Context, req *connect.Request[adminv1.CancelJobRequest]) (*connect.Response[adminv1.CancelJobResponse], error) {
	j, err := f.move(req.Header(), req.Msg.Id, adminv1.JobStatus_JOB_STATUS_CANCELLED)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.CancelJobResponse{Job: j}), nil
}

func (f *fakeAPI) RetryJob(_ context.Context, req *connect.Request[adminv1.RetryJobRequest]) (*connect.Response[adminv1.RetryJobResponse], error) {
	j, err := f.move(req.Header(), req.Msg.Id, adminv1.JobStatus_JOB_STATUS_PLANNED)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.RetryJobResponse{Job: j}), nil
}

// move is an operator's transition: from dead only, in this fake.
func (f *fakeAPI) move(h http.Header, id int64, to adminv1.JobStatus) (*adminv1.Job, error) {
	if err := f.auth(h, true); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	j, err := f.job(id)
	if err != nil {
		return nil, err
	}
	if j.Status != adminv1.JobStatus_JOB_STATUS_DEAD {
		return nil, connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("job %d is %s: cannot go to %s", id, j.Status, to))
	}
	j.Status, j.Failures = to, 0
	return proto.CloneOf(j), nil
}

func (f *fakeAPI) ListDeadLetters(_ context.Context, req *connect.Request[adminv1.ListDeadLettersRequest]) (*connect.Response[adminv1.ListDeadLettersResponse], error) {
	if err := f.auth(req.Header(), false); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var dead []*adminv1.Job
	for _, j := range f.jobs {
		if j.Status == adminv1.JobStatus_JOB_STATUS_DEAD {
			dead = append(dead, proto.CloneOf(j))
		}
	}
	jobs, next, err := page(dead, req.Msg.PageSize, req.Msg.PageToken)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.ListDeadLettersResponse{Jobs: jobs, NextPageToken: next}), nil
}

func (f *fakeAPI) GetPostMetrics(_ context.Context, req *connect.Request[adminv1.GetPostMetricsRequest]) (*connect.Response[adminv1.GetPostMetricsResponse], error) {
	if err := f.auth(req.Header(), false); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.job(req.Msg.Id); err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.GetPostMetricsResponse{Snapshots: f.metrics[req.Msg.Id]}), nil
}

func (f *fakeAPI) Reload(_ context.Context, req *connect.Request[adminv1.ReloadRequest]) (*connect.Response[adminv1.ReloadResponse], error) {
	if err := f.auth(req.Header(), true); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.reloadTo
	if r == nil {
		r = f.status.LastReload
	}
	f.status.LastReload = r
	return connect.NewResponse(&adminv1.ReloadResponse{Result: proto.CloneOf(r)}), nil
}

func (f *fakeAPI) WatchJobEvents(ctx context.Context, req *connect.Request[adminv1.WatchJobEventsRequest], stream *connect.ServerStream[adminv1.WatchJobEventsResponse]) error {
	if err := f.auth(req.Header(), false); err != nil {
		return err
	}
	select {
	case f.watches <- req.Msg.AfterEventId:
	case <-f.stop:
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-f.stop:
			return nil
		case m := <-f.live:
			if m == nil {
				return connect.NewError(connect.CodeUnavailable, errors.New("the node is stopping"))
			}
			if err := stream.Send(m); err != nil {
				return err
			}
		}
	}
}
