package admin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/herald-social/herald/admin"
	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
	"github.com/herald-social/herald/proto/herald/admin/v1/adminv1connect"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/sqlite"
)

var t0 = time.Date(2026, 3, 8, 9, 0, 0, 0, time.UTC)

// backend is a node with a real store and canned accounts.
type backend struct {
	st       store.Store
	accounts []admin.Account
	nodes    []admin.NodeInfo // nil: this node alone
	warnings []string
}

func (b *backend) Info() admin.NodeInfo {
	return admin.NodeInfo{ID: "n1", Version: "test", StartedAt: t0, LastSeen: t0, Alive: true}
}
func (b *backend) Config() *schedules.Config { return nil }
func (b *backend) LastReload() admin.Reload {
	return admin.Reload{Result: "ok", Trigger: "start", At: t0}
}
func (b *backend) Reload(context.Context) (admin.Reload, error)           { return b.LastReload(), nil }
func (b *backend) Store() store.Store                                     { return b.st }
func (b *backend) Redis(context.Context) (bool, error)                    { return false, nil }
func (b *backend) Pauses(context.Context) (map[string]store.Pause, error) { return nil, nil }
func (b *backend) Pause(context.Context, store.Pause) error               { return nil }
func (b *backend) Resume(context.Context, string) error                   { return nil }
func (b *backend) Journal(context.Context, store.Change)                  {}
func (b *backend) Trigger(context.Context, string) (store.Job, error) {
	return store.Job{}, nil
}
func (b *backend) Nodes(context.Context) ([]admin.NodeInfo, error) {
	if b.nodes != nil {
		return b.nodes, nil
	}
	return []admin.NodeInfo{b.Info()}, nil
}
func (b *backend) Warnings() []string                       { return b.warnings }
func (b *backend) Now() time.Time                           { return t0.Add(time.Hour) }
func (b *backend) Accounts(context.Context) []admin.Account { return b.accounts }

// serve runs the API over b on HTTP/1.1 and h2c, and returns a client
// per protocol.
func serve(t *testing.T, b admin.Backend) map[string]adminv1connect.AdminServiceClient {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(adminv1connect.NewAdminServiceHandler(admin.NewServer(b, nil)))
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	h2c := &http.Transport{Protocols: new(http.Protocols)}
	h2c.Protocols.SetUnencryptedHTTP2(true)
	return map[string]adminv1connect.AdminServiceClient{
		"connect":      adminv1connect.NewAdminServiceClient(http.DefaultClient, srv.URL),
		"connect-json": adminv1connect.NewAdminServiceClient(http.DefaultClient, srv.URL, connect.WithProtoJSON()),
		"grpc":         adminv1connect.NewAdminServiceClient(&http.Client{Transport: h2c}, srv.URL, connect.WithGRPC()),
	}
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "admin.db"), sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestJobShowsItsFrozenPost: a job's frozen post (texts of the thread,
// media with what their upload recorded) and its first send reach every
// protocol, from the store as the publisher leaves them.
func TestJobShowsItsFrozenPost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	frozen := &store.FrozenPost{Account: "brand", Texts: []string{"Tip 7: pin your versions.", "Why: reproducible builds."},
		Media: []store.FrozenMedia{{Path: "media/tip7.png", Alt: "a pinned version"}}}
	res, err := st.CreateJobs(ctx, store.CreateJobsParams{Node: "n1", Now: t0, ClaimLeaseUntil: t0.Add(time.Minute),
		Jobs: []store.NewJob{{ScheduleID: "tips", PlannedAt: t0, Post: frozen, Revision: "rev-7"}, {ScheduleID: "tips", PlannedAt: t0.Add(24 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Claim == nil {
		t.Fatal("the due job was not claimed")
	}
	running := res[0].Claim.Job
	if running.FiredBy != "n1" {
		t.Fatalf("the job was fired by %q, want n1", running.FiredBy)
	}
	expires := t0.Add(24 * time.Hour)
	uploaded := []store.FrozenMedia{{Path: "media/tip7.png", Alt: "a pinned version", Digest: "sha256:9f86d081884c7d65", Size: 20480,
		MediaID: "1790000000000000100", ExpiresAt: expires}}
	if _, err := st.RecordMedia(ctx, store.RecordMediaParams{JobID: running.ID, Node: "n1", Attempt: running.Attempt, Media: uploaded, Now: t0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	sent := t0.Add(2 * time.Second)
	if _, err := st.RecordPosts(ctx, store.RecordPostsParams{JobID: running.ID, Node: "n1", Attempt: running.Attempt,
		PostIDs: []string{"1790000000000000001"}, Now: sent, SentAt: sent}); err != nil {
		t.Fatal(err)
	}
	want := &adminv1.FrozenPost{Account: "brand", Texts: frozen.Texts, Media: []*adminv1.FrozenMedia{{Path: "media/tip7.png",
		Alt: "a pinned version", Digest: "sha256:9f86d081884c7d65", Size: 20480, MediaId: "1790000000000000100", ExpiresAt: timestamppb.New(expires)}}}

	for name, c := range serve(t, &backend{st: st}) {
		got, err := c.GetJob(ctx, connect.NewRequest(&adminv1.GetJobRequest{Id: running.ID}))
		if err != nil {
			t.Fatalf("%s GetJob: %v", name, err)
		}
		if !proto.Equal(got.Msg.Job.GetPost(), want) {
			t.Errorf("%s GetJob post = %v, want %v", name, got.Msg.Job.GetPost(), want)
		}
		if got.Msg.Job.GetFiredBy() != "n1" || got.Msg.Job.GetConfigRevision() != "rev-7" {
			t.Errorf("%s GetJob fired by %q from revision %q, want n1 and rev-7", name, got.Msg.Job.GetFiredBy(), got.Msg.Job.GetConfigRevision())
		}
		if !got.Msg.Job.GetFirstSentAt().AsTime().Equal(sent) {
			t.Errorf("%s GetJob first_sent_at = %v, want %v", name, got.Msg.Job.GetFirstSentAt(), sent)
		}
		list, err := c.ListJobs(ctx, connect.NewRequest(&adminv1.ListJobsRequest{ScheduleId: "tips"}))
		if err != nil || len(list.Msg.Jobs) != 2 {
			t.Fatalf("%s ListJobs = %v, %v", name, list, err)
		}
		if !proto.Equal(list.Msg.Jobs[0].GetPost(), want) {
			t.Errorf("%s ListJobs post = %v", name, list.Msg.Jobs[0].GetPost())
		}
		if later := list.Msg.Jobs[1]; later.Post != nil || later.FirstSentAt != nil {
			t.Errorf("%s: a job not frozen and never sent shows post %v, first sent %v", name, later.Post, later.FirstSentAt)
		}
	}
}

// TestStatusReportsAccounts: GetStatus lists every account with its kind
// of credentials, dry run, and the state of its credentials.
func TestStatusReportsAccounts(t *testing.T) {
	t.Parallel()
	since := t0.Add(-time.Hour)
	b := &backend{st: openStore(t), accounts: []admin.Account{
		{Name: "brand", Auth: "oauth2", State: admin.AuthStateReauthRequired, Detail: "xapi token: HTTP 400 Bad Request", Since: since},
		{Name: "demo", Auth: "none", DryRun: true, State: admin.AuthStateOK},
		{Name: "news", Auth: "oauth2", State: admin.AuthStateRefreshInProgressFound, Detail: "answer lost", Since: since},
		{Name: "old", Auth: "oauth1", State: admin.AuthStateUnknown, Detail: "store unreachable"},
	}}
	want := []*adminv1.AccountStatus{
		{Name: "brand", Auth: "oauth2", AuthState: adminv1.AuthState_AUTH_STATE_REAUTH_REQUIRED, Detail: "xapi token: HTTP 400 Bad Request", Since: timestamppb.New(since)},
		{Name: "demo", Auth: "none", DryRun: true, AuthState: adminv1.AuthState_AUTH_STATE_OK},
		{Name: "news", Auth: "oauth2", AuthState: adminv1.AuthState_AUTH_STATE_REFRESH_IN_PROGRESS_FOUND, Detail: "answer lost", Since: timestamppb.New(since)},
		{Name: "old", Auth: "oauth1", AuthState: adminv1.AuthState_AUTH_STATE_UNKNOWN, Detail: "store unreachable"},
	}
	for name, c := range serve(t, b) {
		got, err := c.GetStatus(context.Background(), connect.NewRequest(&adminv1.GetStatusRequest{}))
		if err != nil {
			t.Fatalf("%s GetStatus: %v", name, err)
		}
		if len(got.Msg.Accounts) != len(want) {
			t.Fatalf("%s accounts = %v", name, got.Msg.Accounts)
		}
		for i := range want {
			if !proto.Equal(got.Msg.Accounts[i], want[i]) {
				t.Errorf("%s accounts[%d] = %v, want %v", name, i, got.Msg.Accounts[i], want[i])
			}
		}
	}
}

// TestNodesAndWarnings: ListNodes carries every field of each node, the
// revision mismatch included, and GetStatus the backend's warnings, over
// every protocol.
func TestNodesAndWarnings(t *testing.T) {
	t.Parallel()
	nodes := []admin.NodeInfo{
		{ID: "n1", Address: "http://n1:8080", Version: "v1", Revision: "rev-a", StartedAt: t0, LastSeen: t0.Add(time.Hour), Alive: true,
			RedisHealth: "ok", StoreHealth: "ok", InFlight: 3},
		{ID: "n2", Address: "http://n2:8080", Version: "v1", Revision: "rev-b", DryRun: true, StartedAt: t0, LastSeen: t0.Add(time.Hour),
			Alive: true, RedisHealth: "degraded: refused", StoreHealth: "ok", RevisionMismatch: true},
	}
	want := []*adminv1.Node{
		{Id: "n1", Address: "http://n1:8080", Version: "v1", ConfigRevision: "rev-a", StartedAt: timestamppb.New(t0),
			LastSeen: timestamppb.New(t0.Add(time.Hour)), Alive: true, RedisHealth: "ok", StoreHealth: "ok", JobsInFlight: 3},
		{Id: "n2", Address: "http://n2:8080", Version: "v1", ConfigRevision: "rev-b", DryRun: true, StartedAt: timestamppb.New(t0),
			LastSeen: timestamppb.New(t0.Add(time.Hour)), Alive: true, RedisHealth: "degraded: refused", StoreHealth: "ok", RevisionMismatch: true},
	}
	warning := "2 live nodes share this store without Redis: every node writes every fire and counts rate limits alone"
	b := &backend{st: openStore(t), nodes: nodes, warnings: []string{warning}}
	for name, c := range serve(t, b) {
		got, err := c.ListNodes(context.Background(), connect.NewRequest(&adminv1.ListNodesRequest{}))
		if err != nil || len(got.Msg.Nodes) != len(want) {
			t.Fatalf("%s ListNodes = %v, %v", name, got, err)
		}
		for i := range want {
			if !proto.Equal(got.Msg.Nodes[i], want[i]) {
				t.Errorf("%s nodes[%d] = %v, want %v", name, i, got.Msg.Nodes[i], want[i])
			}
		}
		st, err := c.GetStatus(context.Background(), connect.NewRequest(&adminv1.GetStatusRequest{}))
		if err != nil || len(st.Msg.Warnings) != 1 || st.Msg.Warnings[0] != warning {
			t.Fatalf("%s GetStatus warnings = %q, %v", name, st, err)
		}
	}
}

// TestStatusReportsJobs: GetStatus gives the store's job count and the
// oldest job's planned instant (none in an empty store).
func TestStatusReportsJobs(t *testing.T) {
	t.Parallel()
	b := &backend{st: openStore(t)}
	check := func(jobs int64, oldest *timestamppb.Timestamp) {
		t.Helper()
		for name, c := range serve(t, b) {
			got, err := c.GetStatus(context.Background(), connect.NewRequest(&adminv1.GetStatusRequest{}))
			if err != nil {
				t.Fatalf("%s GetStatus: %v", name, err)
			}
			if m := got.Msg; m.StoreJobs != jobs || m.StoreJobsApproximate || !proto.Equal(m.OldestJobPlannedAt, oldest) {
				t.Errorf("%s: jobs %d (approximate %t), oldest %v; want %d, %v", name, m.StoreJobs, m.StoreJobsApproximate,
					m.OldestJobPlannedAt, jobs, oldest)
			}
		}
	}
	check(0, nil)
	planned := t0.Add(-48 * time.Hour)
	_, err := b.st.CreateJobs(context.Background(), store.CreateJobsParams{Node: "n1", Now: t0, Jobs: []store.NewJob{
		{ScheduleID: "a", PlannedAt: t0}, {ScheduleID: "b", PlannedAt: planned, Status: store.StatusMissed}}})
	if err != nil {
		t.Fatal(err)
	}
	check(2, timestamppb.New(planned))
}
