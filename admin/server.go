package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
	"github.com/herald-social/herald/proto/herald/admin/v1/adminv1connect"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

// Server implements AdminService over a Backend.
type Server struct {
	adminv1connect.UnimplementedAdminServiceHandler
	b      Backend
	logger *slog.Logger
	// poll is how often WatchJobEvents looks for new events.
	poll time.Duration
}

// NewServer returns the service over b.
func NewServer(b Backend, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{b: b, logger: logger, poll: 250 * time.Millisecond}
}

var _ adminv1connect.AdminServiceHandler = (*Server)(nil)

// invalid is an InvalidArgument error naming the request field.
func invalid(field, format string, args ...any) error {
	return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

// storeError maps the store's errors onto Connect codes.
func storeError(err error) error {
	var te *store.TransitionError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te) && errors.Is(err, store.ErrIllegalTransition):
		return connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("job %d is %s: cannot go from %s to %s", te.JobID, te.Actual, te.Actual, te.To))
	case errors.Is(err, store.ErrNotFound):
		return connect.NewError(connect.CodeNotFound, err)
	case errors.Is(err, store.ErrConflict):
		return connect.NewError(connect.CodeAborted, err)
	case errors.Is(err, store.ErrInvalid):
		return connect.NewError(connect.CodeInvalidArgument, err)
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, err)
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, err)
	}
	return connect.NewError(connect.CodeUnavailable, err)
}

func pageSize(n int32, field string) (int, error) {
	switch {
	case n < 0 || n > 1000:
		return 0, invalid(field, "%d is out of range 0 to 1000 (0 means 100)", n)
	case n == 0:
		return 100, nil
	}
	return int(n), nil
}

func (s *Server) GetStatus(ctx context.Context, _ *connect.Request[adminv1.GetStatusRequest]) (*connect.Response[adminv1.GetStatusResponse], error) {
	info := s.b.Info()
	out := &adminv1.GetStatusResponse{
		NodeId: info.ID, Version: info.Version, StartedAt: ts(info.StartedAt), DryRun: info.DryRun,
		LastReload: reloadToProto(s.b.LastReload()),
	}
	if cfg := s.b.Config(); cfg != nil {
		out.ConfigRevision, out.ConfigCommit, out.SchedulesLoaded = cfg.Revision, cfg.Commit, int32(len(cfg.Schedules))
	}
	hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out.Store = &adminv1.Health{State: "ok"}
	if _, err := s.b.Store().SchemaVersion(hctx); err != nil {
		out.Store = &adminv1.Health{State: "error", Detail: err.Error()}
	}
	switch configured, err := s.b.Redis(hctx); {
	case !configured:
		out.Redis = &adminv1.Health{State: "not_configured"}
	case err != nil:
		out.Redis = &adminv1.Health{State: "error", Detail: err.Error()}
	default:
		out.Redis = &adminv1.Health{State: "ok"}
	}
	if st, err := s.b.Store().JobStats(hctx); err == nil {
		out.StoreJobs, out.StoreJobsApproximate, out.OldestJobPlannedAt = st.Jobs, st.Approximate, ts(st.OldestPlannedAt)
	} else if out.Store.State == "ok" {
		out.Store = &adminv1.Health{State: "error", Detail: "job stats: " + err.Error()}
	}
	out.Warnings = s.b.Warnings()
	for _, a := range s.b.Accounts(hctx) {
		out.Accounts = append(out.Accounts, accountToProto(a))
	}
	return connect.NewResponse(out), nil
}

func (s *Server) ListNodes(ctx context.Context, _ *connect.Request[adminv1.ListNodesRequest]) (*connect.Response[adminv1.ListNodesResponse], error) {
	nodes, err := s.b.Nodes(ctx)
	if err != nil {
		return nil, storeError(err)
	}
	out := &adminv1.ListNodesResponse{}
	for _, n := range nodes {
		out.Nodes = append(out.Nodes, nodeToProto(n))
	}
	return connect.NewResponse(out), nil
}

func (s *Server) ListSchedules(ctx context.Context, req *connect.Request[adminv1.ListSchedulesRequest]) (*connect.Response[adminv1.ListSchedulesResponse], error) {
	m := req.Msg
	size, err := pageSize(m.PageSize, "page_size")
	if err != nil {
		return nil, err
	}
	// The page token is the last id of the previous page: schedules are
	// sorted by id, so paging is stable while the configuration changes.
	after := m.PageToken
	cfg := s.b.Config()
	pauses, err := s.b.Pauses(ctx)
	if err != nil {
		return nil, storeError(err)
	}
	out := &adminv1.ListSchedulesResponse{}
	if cfg == nil {
		return connect.NewResponse(out), nil
	}
	now := s.b.Now()
	var page []*adminv1.Schedule
	for _, sc := range cfg.Schedules {
		p, paused := pauses[sc.ID]
		paused = paused && p.Active(now)
		if m.Account != "" && sc.Account != m.Account ||
			m.Filter != "" && !strings.Contains(sc.ID, m.Filter) && !strings.Contains(sc.Account, m.Filter) ||
			m.PausedOnly && !paused {
			continue
		}
		out.TotalSize++
		if sc.ID <= after || len(page) > size {
			continue
		}
		var pp *store.Pause
		if paused {
			pp = &p
		}
		page = append(page, scheduleToProto(sc, pp, now))
	}
	if len(page) > size {
		page = page[:size]
		out.NextPageToken = page[size-1].Id
	}
	if err := s.attachLastJobs(ctx, page); err != nil {
		return nil, err
	}
	out.Schedules = page
	return connect.NewResponse(out), nil
}

// attachLastJobs sets each schedule's latest job. The store's latest fire
// of every schedule of the page comes in one query; then one read per
// schedule that has jobs, from that fire on (which also catches manual
// jobs triggered after it).
func (s *Server) attachLastJobs(ctx context.Context, page []*adminv1.Schedule) error {
	ids := make([]string, len(page))
	for i, sc := range page {
		ids[i] = sc.Id
	}
	fires, err := s.b.Store().LatestFires(ctx, ids)
	if err != nil {
		return storeError(err)
	}
	for _, sc := range page {
		f, ok := fires[sc.Id]
		if !ok || f.Run == 0 {
			continue // no job yet
		}
		var j store.Job
		found := false
		if f.PlannedAt.IsZero() {
			// Only manual jobs: look back for them.
			j, found, err = s.lastJob(ctx, sc.Id)
		} else {
			var jobs []store.Job
			jobs, err = s.allJobs(ctx, store.ListJobsParams{ScheduleID: sc.Id, PlannedFrom: f.PlannedAt})
			if len(jobs) > 0 {
				j, found = jobs[len(jobs)-1], true
			}
		}
		if err != nil {
			return storeError(err)
		}
		if found {
			sc.LastJob = jobToProto(j)
		}
	}
	return nil
}

// lastJob is a schedule's job with the latest planned instant.
func (s *Server) lastJob(ctx context.Context, id string) (store.Job, bool, error) {
	jobs, err := s.latestJobs(ctx, id, 1)
	if err != nil || len(jobs) == 0 {
		return store.Job{}, false, err
	}
	return jobs[0], true, nil
}

// latestJobs returns a schedule's n latest jobs, newest first. ListJobs
// pages oldest first, so it reads a window of recent planned times and
// widens it until it has n or reaches the beginning.
func (s *Server) latestJobs(ctx context.Context, id string, n int) ([]store.Job, error) {
	now := s.b.Now()
	for window := time.Hour; ; window *= 8 {
		from := now.Add(-window)
		all, err := s.allJobs(ctx, store.ListJobsParams{ScheduleID: id, PlannedFrom: from})
		if err != nil {
			return nil, err
		}
		if len(all) >= n || window > 20*365*24*time.Hour {
			sort.Slice(all, func(i, j int) bool { return all[i].PlannedAt.After(all[j].PlannedAt) })
			return all[:min(n, len(all))], nil
		}
	}
}

func (s *Server) allJobs(ctx context.Context, p store.ListJobsParams) ([]store.Job, error) {
	var out []store.Job
	p.Limit = 1000
	for {
		page, err := s.b.Store().ListJobs(ctx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Jobs...)
		if page.NextPageToken == "" || len(out) >= 10000 {
			return out, nil
		}
		p.PageToken = page.NextPageToken
	}
}

func (s *Server) GetSchedule(ctx context.Context, req *connect.Request[adminv1.GetScheduleRequest]) (*connect.Response[adminv1.GetScheduleResponse], error) {
	m := req.Msg
	next, jobs := int(m.Next), int(m.Jobs)
	if next < 0 || next > 100 {
		return nil, invalid("next", "%d is out of range 0 to 100 (0 means 5)", next)
	}
	if jobs < 0 || jobs > 100 {
		return nil, invalid("jobs", "%d is out of range 0 to 100 (0 means 10)", jobs)
	}
	next, jobs = cmpOr(next, 5), cmpOr(jobs, 10)
	sc, err := s.schedule(m.Id)
	if err != nil {
		return nil, err
	}
	pauses, err := s.b.Pauses(ctx)
	if err != nil {
		return nil, storeError(err)
	}
	now := s.b.Now()
	var pp *store.Pause
	if p, ok := pauses[sc.ID]; ok {
		pp = &p
	}
	out := &adminv1.GetScheduleResponse{Schedule: scheduleToProto(sc, pp, now)}
	if sc.Enabled {
		at := now
		for range next {
			f, ok := sc.NextFire(at)
			if !ok {
				break
			}
			out.NextFires = append(out.NextFires, ts(f.At))
			at = f.Planned
		}
	}
	latest, err := s.latestJobs(ctx, sc.ID, jobs)
	if err != nil {
		return nil, storeError(err)
	}
	for _, j := range latest {
		out.LastJobs = append(out.LastJobs, jobToProto(j))
	}
	if len(latest) > 0 {
		out.Schedule.LastJob = jobToProto(latest[0])
	}
	return connect.NewResponse(out), nil
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// schedule finds a loaded schedule by the request's id.
func (s *Server) schedule(id string) (*schedules.Schedule, error) {
	if id == "" {
		return nil, invalid("id", "a schedule id is required")
	}
	cfg := s.b.Config()
	if cfg == nil {
		return nil, connect.NewError(connect.CodeUnavailable, errors.New("no configuration loaded yet"))
	}
	sc := cfg.Schedule(id)
	if sc == nil {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("schedule %q is not loaded", id))
	}
	return sc, nil
}

func (s *Server) PauseSchedule(ctx context.Context, req *connect.Request[adminv1.PauseScheduleRequest]) (*connect.Response[adminv1.PauseScheduleResponse], error) {
	m := req.Msg
	sc, err := s.schedule(m.Id)
	if err != nil {
		return nil, err
	}
	now := s.b.Now()
	p := store.Pause{ScheduleID: sc.ID, Note: m.Note, At: now}
	if m.Until != nil {
		if err := m.Until.CheckValid(); err != nil {
			return nil, invalid("until", "%v", err)
		}
		p.Until = m.Until.AsTime()
		if !p.Until.After(now) {
			return nil, invalid("until", "%s is not in the future", p.Until.UTC().Format(time.RFC3339))
		}
	}
	if err := s.b.Pause(ctx, p); err != nil {
		return nil, storeError(err)
	}
	s.audit(ctx, "schedule paused", slog.String("schedule_id", sc.ID), slog.String("note", m.Note))
	return connect.NewResponse(&adminv1.PauseScheduleResponse{Schedule: scheduleToProto(sc, &p, now)}), nil
}

func (s *Server) ResumeSchedule(ctx context.Context, req *connect.Request[adminv1.ResumeScheduleRequest]) (*connect.Response[adminv1.ResumeScheduleResponse], error) {
	sc, err := s.schedule(req.Msg.Id)
	if err != nil {
		return nil, err
	}
	if err := s.b.Resume(ctx, sc.ID); err != nil {
		return nil, storeError(err)
	}
	s.audit(ctx, "schedule resumed", slog.String("schedule_id", sc.ID))
	return connect.NewResponse(&adminv1.ResumeScheduleResponse{Schedule: scheduleToProto(sc, nil, s.b.Now())}), nil
}

func (s *Server) TriggerSchedule(ctx context.Context, req *connect.Request[adminv1.TriggerScheduleRequest]) (*connect.Response[adminv1.TriggerScheduleResponse], error) {
	sc, err := s.schedule(req.Msg.Id)
	if err != nil {
		return nil, err
	}
	job, err := s.b.Trigger(ctx, sc.ID)
	if err != nil {
		return nil, storeError(err)
	}
	s.audit(ctx, "schedule triggered", slog.String("schedule_id", sc.ID), slog.Int64("job_id", job.ID))
	return connect.NewResponse(&adminv1.TriggerScheduleResponse{Job: jobToProto(job)}), nil
}

func (s *Server) ListJobs(ctx context.Context, req *connect.Request[adminv1.ListJobsRequest]) (*connect.Response[adminv1.ListJobsResponse], error) {
	m := req.Msg
	size, err := pageSize(m.PageSize, "page_size")
	if err != nil {
		return nil, err
	}
	p := store.ListJobsParams{ScheduleID: m.ScheduleId, Limit: size, PageToken: m.PageToken}
	for i, st := range m.Statuses {
		v, ok := statusFromProto(st)
		if !ok {
			return nil, invalid(fmt.Sprintf("statuses[%d]", i), "%v is not a job status", st)
		}
		p.Statuses = append(p.Statuses, v)
	}
	if m.PlannedFrom != nil {
		if err := m.PlannedFrom.CheckValid(); err != nil {
			return nil, invalid("planned_from", "%v", err)
		}
		p.PlannedFrom = m.PlannedFrom.AsTime()
	}
	if m.PlannedTo != nil {
		if err := m.PlannedTo.CheckValid(); err != nil {
			return nil, invalid("planned_to", "%v", err)
		}
		p.PlannedTo = m.PlannedTo.AsTime()
	}
	page, err := s.b.Store().ListJobs(ctx, p)
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			return nil, invalid("page_token", "%v", err)
		}
		return nil, storeError(err)
	}
	out := &adminv1.ListJobsResponse{NextPageToken: page.NextPageToken}
	for _, j := range page.Jobs {
		out.Jobs = append(out.Jobs, jobToProto(j))
	}
	return connect.NewResponse(out), nil
}

func (s *Server) job(ctx context.Context, id int64) (store.Job, error) {
	if id <= 0 {
		return store.Job{}, invalid("id", "a job id (a positive integer) is required")
	}
	j, err := s.b.Store().GetJob(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Job{}, connect.NewError(connect.CodeNotFound, fmt.Errorf("job %d does not exist", id))
	}
	return j, storeError(err)
}

func (s *Server) GetJob(ctx context.Context, req *connect.Request[adminv1.GetJobRequest]) (*connect.Response[adminv1.GetJobResponse], error) {
	j, err := s.job(ctx, req.Msg.Id)
	if err != nil {
		return nil, err
	}
	events, err := s.b.Store().JobEvents(ctx, j.ID)
	if err != nil {
		return nil, storeError(err)
	}
	out := &adminv1.GetJobResponse{Job: jobToProto(j)}
	for _, e := range events {
		out.Events = append(out.Events, eventToProto(e))
	}
	return connect.NewResponse(out), nil
}

// transition applies an operator's transition to a job, from its current
// state to to.
func (s *Server) transition(ctx context.Context, id int64, to store.Status, note string, retryAt time.Time) (store.Job, error) {
	j, err := s.job(ctx, id)
	if err != nil {
		return store.Job{}, err
	}
	if !store.LegalTransition(j.Status, to) {
		return store.Job{}, connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("job %d is %s: cannot go from %s to %s", j.ID, j.Status, j.Status, to))
	}
	detail := "by an operator"
	if note != "" {
		detail += ": " + note
	}
	res, err := s.b.Store().Transition(ctx, store.TransitionParams{
		JobID: j.ID, From: j.Status, To: to, Node: s.b.Info().ID, Now: s.b.Now(), Detail: detail, RetryAt: retryAt,
	})
	if err != nil {
		return store.Job{}, storeError(err)
	}
	if res[0].Err != nil {
		return store.Job{}, storeError(res[0].Err)
	}
	c := res[0].Change
	s.b.Journal(ctx, c)
	return c.Job, nil
}

func (s *Server) CancelJob(ctx context.Context, req *connect.Request[adminv1.CancelJobRequest]) (*connect.Response[adminv1.CancelJobResponse], error) {
	j, err := s.transition(ctx, req.Msg.Id, store.StatusCancelled, req.Msg.Note, time.Time{})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.CancelJobResponse{Job: jobToProto(j)}), nil
}

func (s *Server) RetryJob(ctx context.Context, req *connect.Request[adminv1.RetryJobRequest]) (*connect.Response[adminv1.RetryJobResponse], error) {
	j, err := s.transition(ctx, req.Msg.Id, store.StatusPlanned, req.Msg.Note, s.b.Now())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.RetryJobResponse{Job: jobToProto(j)}), nil
}

func (s *Server) ListDeadLetters(ctx context.Context, req *connect.Request[adminv1.ListDeadLettersRequest]) (*connect.Response[adminv1.ListDeadLettersResponse], error) {
	m := req.Msg
	res, err := s.ListJobs(ctx, connect.NewRequest(&adminv1.ListJobsRequest{
		ScheduleId: m.ScheduleId, Statuses: []adminv1.JobStatus{adminv1.JobStatus_JOB_STATUS_DEAD}, PageSize: m.PageSize, PageToken: m.PageToken,
	}))
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.ListDeadLettersResponse{Jobs: res.Msg.Jobs, NextPageToken: res.Msg.NextPageToken}), nil
}

func (s *Server) GetPostMetrics(ctx context.Context, req *connect.Request[adminv1.GetPostMetricsRequest]) (*connect.Response[adminv1.GetPostMetricsResponse], error) {
	j, err := s.job(ctx, req.Msg.Id)
	if err != nil {
		return nil, err
	}
	snaps, err := s.b.Store().PostMetrics(ctx, j.ID)
	if err != nil {
		return nil, storeError(err)
	}
	out := &adminv1.GetPostMetricsResponse{}
	for _, sn := range snaps {
		out.Snapshots = append(out.Snapshots, snapshotToProto(sn))
	}
	return connect.NewResponse(out), nil
}

func (s *Server) Reload(ctx context.Context, _ *connect.Request[adminv1.ReloadRequest]) (*connect.Response[adminv1.ReloadResponse], error) {
	r, err := s.b.Reload(ctx)
	if err != nil {
		return nil, storeError(err)
	}
	return connect.NewResponse(&adminv1.ReloadResponse{Result: reloadToProto(r)}), nil
}

// audit logs an operator's action with who did it (the token's role and
// name, never the token).
func (s *Server) audit(ctx context.Context, msg string, attrs ...slog.Attr) {
	if c, ok := callerFrom(ctx); ok {
		attrs = append(attrs, slog.String("role", string(c.Role)), slog.String("caller", c.Name))
	}
	s.logger.LogAttrs(ctx, slog.LevelInfo, msg, attrs...)
}
