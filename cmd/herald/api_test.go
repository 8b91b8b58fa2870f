package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/herald-social/herald/platform/x/fakex"
	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
	"github.com/herald-social/herald/proto/herald/admin/v1/adminv1connect"
)

const (
	adminToken = "admin-token-0123456789abcdef"
	readToken  = "read-token-0123456789abcdef"
)

// apiClients are one client per protocol the API serves, each with a token.
type apiClients struct {
	base string
}

func (a apiClients) client(proto, token string) adminv1connect.AdminServiceClient {
	var opts []connect.ClientOption
	hc := http.DefaultClient
	switch proto {
	case "grpc":
		// gRPC needs HTTP/2: h2c, since the test server has no TLS.
		tr := &http.Transport{}
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetUnencryptedHTTP2(true)
		hc = &http.Client{Transport: tr}
		opts = append(opts, connect.WithGRPC())
	case "grpcweb":
		opts = append(opts, connect.WithGRPCWeb())
	case "connect-json":
		opts = append(opts, connect.WithProtoJSON())
	}
	if token != "" {
		opts = append(opts, connect.WithInterceptors(testBearer(token)))
	}
	return adminv1connect.NewAdminServiceClient(hc, a.base, opts...)
}

// bearer sets the Authorization header on every call.
type testBearer string

func (b testBearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		req.Header().Set("Authorization", "Bearer "+string(b))
		return next(ctx, req)
	}
}

func (b testBearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		conn.RequestHeader().Set("Authorization", "Bearer "+string(b))
		return conn
	}
}

func (b testBearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

func codeOf(err error) connect.Code {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Code()
	}
	return 0
}

const apiPlan = `accounts:
  brand: {platform: x}
  real:
    platform: x
    oauth2: {access_token: env:X_REAL_TOKEN}
schedules:
  - id: tick
    account: brand
    cron: "* * * * * *"
    post: {text: "tick {{ .Run }}"}
    metrics: [1s]
  - id: hourly
    account: brand
    cron: "0 * * * *"
    post: {text: "hourly {{ .Run }}"}
  - id: doomed
    account: real
    cron: "0 0 1 1 *"
    post: {text: "doomed"}
`

// TestAdminAPIEndToEnd drives every method of the admin API through the
// Connect protocol (binary and JSON), gRPC and gRPC-Web against a real
// herald serve, with each authentication failure.
func TestAdminAPIEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	dir := t.TempDir()
	fake := fakex.New(fakex.Options{})
	fake.AddUser(fakex.User{ID: "501", Username: "real", AccessToken: "at-real"})
	fake.Inject(fakex.Fault{Endpoint: fakex.EndpointCreatePost, User: "real", Status: 400})
	fx := httpTestServer(t, fake)
	writeFile(t, dir, "plan.yaml", apiPlan)
	n := startNodeEnv(t, []string{"HERALD_ADMIN_TOKENS=admin:" + adminToken + "\nread:" + readToken, "X_REAL_TOKEN=at-real"},
		"--config", filepath.Join(dir, "plan.yaml"), "--db", "sqlite:"+filepath.Join(dir, "h.db"), "--node-id", "api-e2e", "--x-api-url", fx)
	started := n.waitLog("start", 30*time.Second, msgIs("herald started"))
	clients := apiClients{base: "http://" + started["listen"].(string)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := clients.client("connect", adminToken)

	// Every protocol, read token: status.
	for _, proto := range []string{"connect", "connect-json", "grpc", "grpcweb"} {
		st, err := clients.client(proto, readToken).GetStatus(ctx, connect.NewRequest(&adminv1.GetStatusRequest{}))
		if err != nil {
			t.Fatalf("%s GetStatus: %v", proto, err)
		}
		m := st.Msg
		if m.NodeId != "api-e2e" || m.ConfigRevision == "" || m.SchedulesLoaded != 3 || m.Store.GetState() != "ok" ||
			m.Redis.GetState() != "not_configured" || m.LastReload.GetResult() != "ok" {
			t.Errorf("%s GetStatus = %v", proto, m)
		}
	}

	// Authentication failures, on each protocol.
	for _, proto := range []string{"connect", "grpc", "grpcweb"} {
		if _, err := clients.client(proto, "").GetStatus(ctx, connect.NewRequest(&adminv1.GetStatusRequest{})); codeOf(err) != connect.CodeUnauthenticated {
			t.Errorf("%s without a token: %v, want unauthenticated", proto, err)
		}
		if _, err := clients.client(proto, "wrong-token-0123456789").GetStatus(ctx, connect.NewRequest(&adminv1.GetStatusRequest{})); codeOf(err) != connect.CodeUnauthenticated {
			t.Errorf("%s with a wrong token: %v, want unauthenticated", proto, err)
		}
		if _, err := clients.client(proto, readToken).PauseSchedule(ctx, connect.NewRequest(&adminv1.PauseScheduleRequest{Id: "hourly"})); codeOf(err) != connect.CodePermissionDenied {
			t.Errorf("%s pause with a read token: %v, want permission denied", proto, err)
		}
	}
	for _, l := range n.snapshot() {
		if strings.Contains(fmt.Sprint(l), "wrong-token") || strings.Contains(fmt.Sprint(l), readToken) {
			t.Errorf("a token reached the logs: %v", l)
		}
	}
	// Health needs no token.
	if resp, err := http.Get(clients.base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz: %v %v", resp, err)
	}

	grpc := clients.client("grpc", adminToken)
	nodes, err := grpc.ListNodes(ctx, connect.NewRequest(&adminv1.ListNodesRequest{}))
	if err != nil || len(nodes.Msg.Nodes) != 1 || nodes.Msg.Nodes[0].Id != "api-e2e" || !nodes.Msg.Nodes[0].Alive {
		t.Errorf("ListNodes = %v, %v", nodes, err)
	}

	// Schedules: list, page, filter, get.
	for _, c := range []adminv1connect.AdminServiceClient{admin, grpc} {
		list, err := c.ListSchedules(ctx, connect.NewRequest(&adminv1.ListSchedulesRequest{PageSize: 2}))
		if err != nil || len(list.Msg.Schedules) != 2 || list.Msg.TotalSize != 3 || list.Msg.NextPageToken == "" {
			t.Fatalf("ListSchedules page 1 = %v, %v", list, err)
		}
		rest, err := c.ListSchedules(ctx, connect.NewRequest(&adminv1.ListSchedulesRequest{PageSize: 2, PageToken: list.Msg.NextPageToken}))
		if err != nil || len(rest.Msg.Schedules) != 1 || rest.Msg.Schedules[0].Id != "tick" || rest.Msg.NextPageToken != "" {
			t.Errorf("ListSchedules page 2 = %v, %v", rest, err)
		}
	}
	if f, err := admin.ListSchedules(ctx, connect.NewRequest(&adminv1.ListSchedulesRequest{Filter: "hour"})); err != nil || len(f.Msg.Schedules) != 1 {
		t.Errorf("filter: %v %v", f, err)
	}
	if _, err := admin.ListSchedules(ctx, connect.NewRequest(&adminv1.ListSchedulesRequest{PageSize: 5000})); codeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "page_size") {
		t.Errorf("page_size 5000: %v, want invalid argument naming page_size", err)
	}
	gs, err := grpc.GetSchedule(ctx, connect.NewRequest(&adminv1.GetScheduleRequest{Id: "hourly", Next: 3}))
	if err != nil || len(gs.Msg.NextFires) != 3 || gs.Msg.Schedule.Source.GetLine() != 12 || !strings.HasSuffix(gs.Msg.Schedule.Source.GetFile(), "plan.yaml") {
		t.Errorf("GetSchedule = %v, %v", gs, err)
	}
	if _, err := grpc.GetSchedule(ctx, connect.NewRequest(&adminv1.GetScheduleRequest{Id: "nope"})); codeOf(err) != connect.CodeNotFound {
		t.Errorf("unknown schedule: %v", err)
	}

	// The event stream, from now on.
	stream, err := grpc.WatchJobEvents(ctx, connect.NewRequest(&adminv1.WatchJobEventsRequest{ScheduleId: "tick"}))
	if err != nil {
		t.Fatal(err)
	}
	var seen []*adminv1.WatchJobEventsResponse
	for len(seen) < 4 && stream.Receive() {
		seen = append(seen, stream.Msg())
	}
	stream.Close()
	if len(seen) < 4 {
		t.Fatalf("stream ended after %d events: %v", len(seen), stream.Err())
	}
	for i, ev := range seen {
		if ev.Job.ScheduleId != "tick" || (i > 0 && ev.Event.Id <= seen[i-1].Event.Id) {
			t.Errorf("event %d = %v", i, ev)
		}
	}
	// Resumable: from an id, the same events again, in order.
	again, err := admin.WatchJobEvents(ctx, connect.NewRequest(&adminv1.WatchJobEventsRequest{ScheduleId: "tick", AfterEventId: seen[0].Event.Id}))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(seen) && again.Receive(); i++ {
		if again.Msg().Event.Id != seen[i].Event.Id {
			t.Errorf("resumed event %d has id %d, want %d", i, again.Msg().Event.Id, seen[i].Event.Id)
		}
	}
	again.Close()

	// Jobs: list by schedule and status, get with events, metrics.
	var done *adminv1.Job
	waitFor(t, "a tick job with its metrics snapshot", func() bool {
		list, err := admin.ListJobs(ctx, connect.NewRequest(&adminv1.ListJobsRequest{ScheduleId: "tick", Statuses: []adminv1.JobStatus{adminv1.JobStatus_JOB_STATUS_SUCCEEDED}}))
		if err != nil || len(list.Msg.Jobs) == 0 {
			return false
		}
		done = list.Msg.Jobs[0]
		m, err := grpc.GetPostMetrics(ctx, connect.NewRequest(&adminv1.GetPostMetricsRequest{Id: done.Id}))
		return err == nil && len(m.Msg.Snapshots) == 1 && m.Msg.Snapshots[0].Stage.AsDuration() == time.Second
	})
	job, err := grpc.GetJob(ctx, connect.NewRequest(&adminv1.GetJobRequest{Id: done.Id}))
	if err != nil || len(job.Msg.Events) < 3 || job.Msg.Events[0].To != adminv1.JobStatus_JOB_STATUS_PLANNED || job.Msg.Job.Status != adminv1.JobStatus_JOB_STATUS_SUCCEEDED {
		t.Errorf("GetJob = %v, %v", job, err)
	}
	if _, err := admin.GetJob(ctx, connect.NewRequest(&adminv1.GetJobRequest{Id: 1 << 40})); codeOf(err) != connect.CodeNotFound {
		t.Errorf("unknown job: %v", err)
	}
	_, err = grpc.CancelJob(ctx, connect.NewRequest(&adminv1.CancelJobRequest{Id: done.Id}))
	if codeOf(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "succeeded") || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("cancel a succeeded job: %v, want failed precondition naming both states", err)
	}

	// Pause and resume.
	p, err := admin.PauseSchedule(ctx, connect.NewRequest(&adminv1.PauseScheduleRequest{Id: "tick", Note: "incident 42"}))
	if err != nil || p.Msg.Schedule.Pause.GetNote() != "incident 42" {
		t.Fatalf("PauseSchedule = %v, %v", p, err)
	}
	n.waitLog("a skipped fire", 20*time.Second, msgIs("fire skipped", "schedule_id", "tick", "reason", "paused"))
	paused, err := grpc.ListSchedules(ctx, connect.NewRequest(&adminv1.ListSchedulesRequest{PausedOnly: true}))
	if err != nil || len(paused.Msg.Schedules) != 1 || paused.Msg.Schedules[0].Id != "tick" {
		t.Errorf("paused schedules = %v, %v", paused, err)
	}
	if _, err := grpc.ResumeSchedule(ctx, connect.NewRequest(&adminv1.ResumeScheduleRequest{Id: "tick"})); err != nil {
		t.Fatal(err)
	}

	// Trigger, once, recorded as manual.
	tr, err := grpc.TriggerSchedule(ctx, connect.NewRequest(&adminv1.TriggerScheduleRequest{Id: "hourly"}))
	if err != nil || tr.Msg.Job.Trigger != "manual" {
		t.Fatalf("TriggerSchedule = %v, %v", tr, err)
	}
	waitFor(t, "the manual job published", func() bool {
		j, err := admin.GetJob(ctx, connect.NewRequest(&adminv1.GetJobRequest{Id: tr.Msg.Job.Id}))
		return err == nil && j.Msg.Job.Status == adminv1.JobStatus_JOB_STATUS_SUCCEEDED
	})

	// A dead letter (the fake X refuses the post), listed, retried.
	dt, err := admin.TriggerSchedule(ctx, connect.NewRequest(&adminv1.TriggerScheduleRequest{Id: "doomed"}))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the dead letter", func() bool {
		dl, err := grpc.ListDeadLetters(ctx, connect.NewRequest(&adminv1.ListDeadLettersRequest{}))
		return err == nil && len(dl.Msg.Jobs) == 1 && dl.Msg.Jobs[0].Id == dt.Msg.Job.Id && dl.Msg.Jobs[0].DeadReason == "rejected"
	})
	if r, err := grpc.RetryJob(ctx, connect.NewRequest(&adminv1.RetryJobRequest{Id: dt.Msg.Job.Id, Note: "fixed"})); err != nil || r.Msg.Job.Status != adminv1.JobStatus_JOB_STATUS_PLANNED {
		t.Fatalf("RetryJob = %v, %v", r, err)
	}
	waitFor(t, "the retried job published", func() bool {
		j, err := admin.GetJob(ctx, connect.NewRequest(&adminv1.GetJobRequest{Id: dt.Msg.Job.Id}))
		return err == nil && j.Msg.Job.Status == adminv1.JobStatus_JOB_STATUS_SUCCEEDED
	})
	// Cancel: a job planned far ahead is cancelled by hand.
	if _, err := admin.CancelJob(ctx, connect.NewRequest(&adminv1.CancelJobRequest{Id: dt.Msg.Job.Id})); codeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("cancel a succeeded job: %v", err)
	}

	// Reload: ok, then a broken file rejected with its position.
	rl, err := grpc.Reload(ctx, connect.NewRequest(&adminv1.ReloadRequest{}))
	if err != nil || rl.Msg.Result.Result != "ok" || rl.Msg.Result.Trigger != "api" {
		t.Errorf("Reload = %v, %v", rl, err)
	}
	writeFile(t, dir, "plan.yaml", strings.Replace(apiPlan, `cron: "0 * * * *"`, `cron: "0 * * *"`, 1))
	rl, err = admin.Reload(ctx, connect.NewRequest(&adminv1.ReloadRequest{}))
	if err != nil || rl.Msg.Result.Result != "error" || len(rl.Msg.Result.Errors) == 0 || !strings.Contains(rl.Msg.Result.Errors[0], "plan.yaml:") {
		t.Errorf("Reload of a broken file = %v, %v", rl, err)
	}
	if st, err := admin.GetStatus(ctx, connect.NewRequest(&adminv1.GetStatusRequest{})); err != nil || st.Msg.LastReload.Result != "error" || st.Msg.SchedulesLoaded != 3 {
		t.Errorf("status after a rejected reload = %v, %v", st, err)
	}
	stopClean(t, n)
}

// TestPauseSurvivesRestart: a pause is kept in the store.
func TestPauseSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "plan.yaml", apiPlan)
	env := []string{"HERALD_ADMIN_TOKENS=admin:" + adminToken, "X_REAL_TOKEN=x"}
	args := []string{"--config", filepath.Join(dir, "plan.yaml"), "--db", "sqlite:" + filepath.Join(dir, "h.db"), "--node-id", "pause-e2e", "--x-api-url", "http://127.0.0.1:1"}
	n := startNodeEnv(t, env, args...)
	started := n.waitLog("start", 30*time.Second, msgIs("herald started"))
	c := apiClients{base: "http://" + started["listen"].(string)}.client("connect", adminToken)
	ctx := context.Background()
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	if _, err := c.PauseSchedule(ctx, connect.NewRequest(&adminv1.PauseScheduleRequest{Id: "tick", Note: "n", Until: timestampOf(until)})); err != nil {
		t.Fatal(err)
	}
	stopClean(t, n)
	n2 := startNodeEnv(t, env, args...)
	started = n2.waitLog("start", 30*time.Second, msgIs("herald started"))
	c = apiClients{base: "http://" + started["listen"].(string)}.client("connect", adminToken)
	n2.waitLog("a skipped fire after the restart", 20*time.Second, msgIs("fire skipped", "schedule_id", "tick"))
	s, err := c.GetSchedule(ctx, connect.NewRequest(&adminv1.GetScheduleRequest{Id: "tick"}))
	if err != nil || s.Msg.Schedule.Pause == nil || !s.Msg.Schedule.Pause.Until.AsTime().Equal(until) {
		t.Errorf("after restart: %v, %v", s, err)
	}
	stopClean(t, n2)
}

// TestNoTokenMeansLoopbackOnly: without tokens, herald serve listens on
// loopback only even when asked for every interface, and says so.
func TestNoTokenMeansLoopbackOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "plan.yaml", "accounts:\n  brand: {platform: x}\nschedules:\n  - {id: h, account: brand, cron: \"0 * * * *\", post: {text: hi}}\n")
	n := startNode(t, "--config", filepath.Join(dir, "plan.yaml"), "--db", "sqlite:"+filepath.Join(dir, "h.db"), "--listen", "0.0.0.0:0")
	n.waitLog("the warning", 30*time.Second, msgIs("no admin token configured: listening on loopback only (set HERALD_ADMIN_TOKENS or --admin-token-file to listen on 0.0.0.0:0)"))
	started := n.waitLog("start", 30*time.Second, msgIs("herald started"))
	host, _, _ := net.SplitHostPort(started["listen"].(string))
	if host != "127.0.0.1" {
		t.Errorf("listening on %s, want loopback", host)
	}
	c := apiClients{base: "http://" + started["listen"].(string)}.client("connect", "")
	if _, err := c.GetStatus(context.Background(), connect.NewRequest(&adminv1.GetStatusRequest{})); err != nil {
		t.Errorf("GetStatus without tokens configured: %v", err)
	}
	stopClean(t, n)
}

func httpTestServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func timestampOf(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestAdminAPIOverTLS: with --tls-cert and --tls-key everything is served
// over TLS, the API with the Connect protocol and gRPC (HTTP/2 over TLS).
func TestAdminAPIOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	writeFile(t, dir, "plan.yaml", "accounts:\n  brand: {platform: x}\nschedules:\n  - {id: h, account: brand, cron: \"0 * * * *\", post: {text: hi}}\n")
	n := startNodeEnv(t, []string{"HERALD_ADMIN_TOKENS=read:" + readToken},
		"--config", filepath.Join(dir, "plan.yaml"), "--db", "sqlite:"+filepath.Join(dir, "h.db"), "--node-id", "tls-e2e",
		"--tls-cert", certFile, "--tls-key", keyFile)
	started := n.waitLog("start", 30*time.Second, msgIs("herald started", "tls", "true"))
	base := "https://" + started["listen"].(string)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	hc := &http.Client{Transport: tr}
	for _, opts := range [][]connect.ClientOption{nil, {connect.WithGRPC()}} {
		c := adminv1connect.NewAdminServiceClient(hc, base, append(opts, connect.WithInterceptors(testBearer(readToken)))...)
		st, err := c.GetStatus(context.Background(), connect.NewRequest(&adminv1.GetStatusRequest{}))
		if err != nil || st.Msg.NodeId != "tls-e2e" {
			t.Errorf("GetStatus over TLS (%d options) = %v, %v", len(opts), st, err)
		}
	}
	if resp, err := hc.Get(base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz over TLS: %v %v", resp, err)
	}
	if resp, err := http.Get("http://" + started["listen"].(string) + "/healthz"); err == nil && resp.StatusCode == http.StatusOK {
		t.Error("plain HTTP served on the TLS listener")
	}
	stopClean(t, n)
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (string, string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "herald test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, dir, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, dir, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
