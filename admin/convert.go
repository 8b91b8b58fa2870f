package admin

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

// ts converts a time, leaving zero times unset.
func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// dur converts a duration, leaving zero unset.
func dur(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

var statusToProto = map[store.Status]adminv1.JobStatus{
	store.StatusPlanned:   adminv1.JobStatus_JOB_STATUS_PLANNED,
	store.StatusRunning:   adminv1.JobStatus_JOB_STATUS_RUNNING,
	store.StatusSucceeded: adminv1.JobStatus_JOB_STATUS_SUCCEEDED,
	store.StatusRetrying:  adminv1.JobStatus_JOB_STATUS_RETRYING,
	store.StatusDead:      adminv1.JobStatus_JOB_STATUS_DEAD,
	store.StatusUnknown:   adminv1.JobStatus_JOB_STATUS_UNKNOWN,
	store.StatusCancelled: adminv1.JobStatus_JOB_STATUS_CANCELLED,
	store.StatusMissed:    adminv1.JobStatus_JOB_STATUS_MISSED,
}

func statusFromProto(s adminv1.JobStatus) (store.Status, bool) {
	for k, v := range statusToProto {
		if v == s {
			return k, true
		}
	}
	return "", false
}

func jobToProto(j store.Job) *adminv1.Job {
	return &adminv1.Job{
		Id: j.ID, ScheduleId: j.ScheduleID, PlannedAt: ts(j.PlannedAt), DueAt: ts(j.DueAt),
		Status: statusToProto[j.Status], Attempt: int32(j.Attempt), Failures: int32(j.Failures), Run: j.Run,
		Trigger: string(j.Trigger), CorrelationId: j.CorrelationID, Node: j.Node, LeaseUntil: ts(j.LeaseUntil),
		PostIds: j.PostIDs, LastError: j.LastError, DeadReason: j.DeadReason,
		CreatedAt: ts(j.CreatedAt), UpdatedAt: ts(j.UpdatedAt),
		Post: frozenPostToProto(j.Post), FirstSentAt: ts(j.FirstSentAt), ConfigRevision: j.Revision, FiredBy: j.FiredBy,
	}
}

func frozenPostToProto(p *store.FrozenPost) *adminv1.FrozenPost {
	if p == nil {
		return nil
	}
	out := &adminv1.FrozenPost{Account: p.Account, Texts: p.Texts}
	for _, m := range p.Media {
		out.Media = append(out.Media, &adminv1.FrozenMedia{Path: m.Path, Alt: m.Alt, Digest: m.Digest, Size: m.Size,
			MediaId: m.MediaID, ExpiresAt: ts(m.ExpiresAt)})
	}
	return out
}

var authStateToProto = map[string]adminv1.AuthState{
	AuthStateOK:                     adminv1.AuthState_AUTH_STATE_OK,
	AuthStateRefreshInProgressFound: adminv1.AuthState_AUTH_STATE_REFRESH_IN_PROGRESS_FOUND,
	AuthStateReauthRequired:         adminv1.AuthState_AUTH_STATE_REAUTH_REQUIRED,
	AuthStateUnknown:                adminv1.AuthState_AUTH_STATE_UNKNOWN,
}

func accountToProto(a Account) *adminv1.AccountStatus {
	return &adminv1.AccountStatus{Name: a.Name, Auth: a.Auth, DryRun: a.DryRun, AuthState: authStateToProto[a.State],
		Detail: a.Detail, Since: ts(a.Since)}
}

func eventToProto(e store.Event) *adminv1.JobEvent {
	return &adminv1.JobEvent{
		Id: e.ID, JobId: e.JobID, At: ts(e.At), From: statusToProto[e.From], To: statusToProto[e.To],
		Node: e.Node, Attempt: int32(e.Attempt), Detail: e.Detail,
	}
}

func reloadToProto(r Reload) *adminv1.ReloadResult {
	return &adminv1.ReloadResult{
		Result: r.Result, Trigger: r.Trigger, Revision: r.Revision, Added: int32(r.Added),
		Removed: int32(r.Removed), Changed: int32(r.Changed), Errors: r.Errors, At: ts(r.At),
	}
}

func nodeToProto(n NodeInfo) *adminv1.Node {
	return &adminv1.Node{Id: n.ID, Version: n.Version, ConfigRevision: n.Revision, StartedAt: ts(n.StartedAt), LastSeen: ts(n.LastSeen),
		Alive: n.Alive, Address: n.Address, DryRun: n.DryRun, RedisHealth: n.RedisHealth, StoreHealth: n.StoreHealth,
		JobsInFlight: int32(n.InFlight), RevisionMismatch: n.RevisionMismatch}
}

// scheduleToProto describes a schedule; next is its next fire after now
// (none when it is disabled or finished).
func scheduleToProto(s *schedules.Schedule, p *store.Pause, now time.Time) *adminv1.Schedule {
	out := &adminv1.Schedule{
		Id: s.ID, Account: s.Account, Kind: s.Kind.String(), Expr: s.Expr, Timezone: s.Timezone, Enabled: s.Enabled,
		Source: &adminv1.SourcePosition{File: s.Source.File, Line: int32(s.Source.Line), Column: int32(s.Source.Col)},
		Jitter: dur(s.Jitter), Catchup: dur(s.Catchup), Deadline: dur(s.Deadline), MaxAttempts: int32(s.MaxAttempts),
		Text: s.Post.Text, Thread: s.Post.Thread,
	}
	for _, m := range s.Metrics {
		out.Metrics = append(out.Metrics, durationpb.New(m))
	}
	for _, m := range s.Post.Media {
		out.Media = append(out.Media, &adminv1.Media{Path: m.Path, Alt: m.Alt})
	}
	if p != nil && p.Active(now) {
		out.Pause = &adminv1.Pause{Note: p.Note, At: ts(p.At), Until: ts(p.Until)}
	}
	if s.Enabled {
		if f, ok := s.NextFire(now); ok {
			out.NextFire = ts(f.At)
		}
	}
	return out
}

func snapshotToProto(s store.MetricsSnapshot) *adminv1.MetricsSnapshot {
	return &adminv1.MetricsSnapshot{
		PostId: s.PostID, Stage: durationpb.New(s.Stage), DueAt: ts(s.DueAt), CapturedAt: ts(s.CapturedAt),
		Likes: s.Likes, Reposts: s.Reposts, Replies: s.Replies, Quotes: s.Quotes, Bookmarks: s.Bookmarks, Impressions: s.Impressions,
		NonPublic: s.NonPublic, Organic: s.Organic, Detail: s.Detail,
	}
}
