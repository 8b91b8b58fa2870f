package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/herald-social/herald/platform/x/fakex"
	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
)

const accountsPlan = `accounts:
  rot:
    platform: x
    oauth2: {access_token: env:X_ROT_ACCESS, refresh_token: env:X_ROT_REFRESH, client_id: env:X_CLIENT_ID, client_secret: env:X_CLIENT_SECRET}
  demo: {platform: x}
schedules:
  - {id: once, account: rot, cron: "0 0 1 1 *", max_attempts: 1, post: {text: "once"}}
  - {id: thread, account: demo, cron: "0 0 1 1 *", post: {text: "first of run {{ .Run }}", thread: ["second", "third"]}}
`

// accountsNode is a herald serve of accountsPlan, with the address of its
// API and clients of it.
type accountsNode struct {
	*node
	base string
}

func startAccountsNode(t *testing.T, w *xWorld, env []string) accountsNode {
	t.Helper()
	n := w.start(env, accountsPlan)
	started := n.waitLog("start", 30*time.Second, msgIs("herald started"))
	return accountsNode{node: n, base: "http://" + started["listen"].(string)}
}

// account returns the account's status as each protocol reports it, and
// fails unless they agree.
func (a accountsNode) account(t *testing.T, ctx context.Context, name string) *adminv1.AccountStatus {
	t.Helper()
	var first *adminv1.AccountStatus
	for _, proto := range []string{"connect", "grpc"} {
		st, err := apiClients{base: a.base}.client(proto, readToken).GetStatus(ctx, connect.NewRequest(&adminv1.GetStatusRequest{}))
		if err != nil {
			t.Fatalf("%s GetStatus: %v", proto, err)
		}
		var got *adminv1.AccountStatus
		for _, acc := range st.Msg.Accounts {
			if acc.Name == name {
				got = acc
			}
		}
		if got == nil {
			t.Fatalf("%s GetStatus lists no account %s: %v", proto, name, st.Msg.Accounts)
		}
		if first != nil && (got.AuthState != first.AuthState || got.Detail != first.Detail) {
			t.Errorf("%s reports %v, connect %v", proto, got, first)
		}
		first = got
	}
	return first
}

// readyz returns /readyz's status and its accounts detail, asked with a
// read token (without one, /readyz names no account).
func (a accountsNode) readyz(t *testing.T) (int, map[string]map[string]any) {
	t.Helper()
	req, err := http.NewRequest("GET", a.base+"/readyz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+readToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Accounts map[string]map[string]any `json:"accounts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body.Accounts
}

// TestRefreshLostThenReauthEndToEnd: X spends the account's refresh token
// and the answer is lost. The account is reported as possibly needing
// re-authorization (API on Connect and gRPC, /readyz, herald ctl status).
// A restart warns, tries the stored token once, X refuses it, and the
// account is reported as needing re-authorization, with X's refusal and
// what to do; new tokens in the environment make it good again. On the
// side, herald ctl job shows the post frozen on a job.
func TestRefreshLostThenReauthEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	w := newXWorld(t, fakex.Options{})
	w.fake.AddUser(fakex.User{ID: "77", Username: "rot", AccessToken: "at-0", RefreshToken: "rt-0", ClientID: "client-1", ClientSecret: "secret-1"})
	env := []string{"X_ROT_ACCESS=at-0", "X_ROT_REFRESH=rt-0", "X_CLIENT_ID=client-1", "X_CLIENT_SECRET=secret-1",
		"HERALD_TOKEN_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"HERALD_ADMIN_TOKENS=admin:" + adminToken + "\nread:" + readToken}
	ctlAs := []string{"HERALD_TOKEN=" + readToken}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	n := startAccountsNode(t, w, env)
	if got := n.account(t, ctx, "rot"); got.AuthState != adminv1.AuthState_AUTH_STATE_OK || got.Auth != "oauth2" || got.DryRun {
		t.Errorf("rot at start = %v, want oauth2, publishing, ok", got)
	}
	if got := n.account(t, ctx, "demo"); got.AuthState != adminv1.AuthState_AUTH_STATE_OK || got.Auth != "none" || !got.DryRun {
		t.Errorf("demo = %v, want no credentials, dry run, ok", got)
	}
	if code, accounts := n.readyz(t); code != http.StatusOK || accounts != nil {
		t.Errorf("/readyz at start: %d %v, want 200 and no accounts needing attention", code, accounts)
	}

	// at-0 expires at X; the refresh's answer is lost after X spent rt-0.
	w.clk.Advance(2*time.Hour + time.Minute)
	w.fake.Inject(fakex.Fault{Endpoint: fakex.EndpointToken, DropAfterStore: true})
	admin := apiClients{base: n.base}.client("connect", adminToken)
	if _, err := admin.TriggerSchedule(ctx, connect.NewRequest(&adminv1.TriggerScheduleRequest{Id: "once"})); err != nil {
		t.Fatal(err)
	}
	n.waitLog("the lost answer", 30*time.Second, msgIs("oauth2: the answer to a token refresh was lost: the account may need re-authorization; the next refresh tries the stored refresh token once more", "account", "rot"))
	n.waitLog("the job's end", 30*time.Second, msgIs("job transition", "schedule_id", "once", "to", "dead"))
	if got := n.account(t, ctx, "rot"); got.AuthState != adminv1.AuthState_AUTH_STATE_REFRESH_IN_PROGRESS_FOUND || got.Since == nil ||
		!strings.Contains(got.Detail, "X may have spent the refresh token") {
		t.Errorf("rot after the lost answer = %v, want refresh_in_progress_found", got)
	}
	if code, accounts := n.readyz(t); code != http.StatusOK || accounts["rot"]["auth_state"] != "refresh_in_progress_found" ||
		!strings.Contains(accounts["rot"]["action"].(string), "may need re-authorization") {
		t.Errorf("/readyz after the lost answer: %d %v", code, accounts)
	}
	r := runCtlBin(t, ctlAs, "status", "--server", n.base)
	if r.code != exitOK || !strings.Contains(r.stdout, "\nrot      oauth2  publishing  refresh_in_progress_found  20") ||
		!strings.Contains(r.stdout, "\ndemo     none    dry run     ok                         -  ") ||
		!strings.Contains(r.stdout, "\nrot may need re-authorization: ") {
		t.Errorf("herald ctl status (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The frozen post of a job, through herald ctl job and gRPC.
	trig, err := admin.TriggerSchedule(ctx, connect.NewRequest(&adminv1.TriggerScheduleRequest{Id: "thread"}))
	if err != nil {
		t.Fatal(err)
	}
	n.waitLog("the thread", 30*time.Second, msgIs("job transition", "schedule_id", "thread", "to", "succeeded"))
	job, err := apiClients{base: n.base}.client("grpc", readToken).GetJob(ctx, connect.NewRequest(&adminv1.GetJobRequest{Id: trig.Msg.Job.Id}))
	if err != nil {
		t.Fatal(err)
	}
	if p := job.Msg.Job.GetPost(); p.GetAccount() != "demo" || strings.Join(p.GetTexts(), "|") != "first of run 1|second|third" {
		t.Errorf("GetJob post = %v, want the thread rendered for run 1", p)
	}
	r = runCtlBin(t, ctlAs, "job", strconv.FormatInt(trig.Msg.Job.Id, 10), "--server", n.base)
	for _, want := range []string{"account      demo\n", "post 1/3     first of run 1\n", "post 2/3     second\n", "post 3/3     third\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("herald ctl job does not show %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
	stopClean(t, n.node)

	// A restart finds the marker, warns and tries rt-0 once: X refuses it.
	n2 := startAccountsNode(t, w, env)
	warn := n2.waitLog("the warning", 30*time.Second, msgIs("oauth2: a refresh of this account's token began and its result was never stored: the account may need re-authorization; trying the stored refresh token once", "account", "rot"))
	if warn["level"] != "WARN" {
		t.Errorf("the warning is logged at %v", warn["level"])
	}
	n2.waitLog("the verdict", 30*time.Second, msgIs("oauth2: X refused the stored refresh token: the account needs re-authorization (new tokens in its environment, then a reload or restart)", "account", "rot"))
	got := n2.account(t, ctx, "rot")
	if got.AuthState != adminv1.AuthState_AUTH_STATE_REAUTH_REQUIRED || !strings.Contains(got.Detail, "HTTP 400") || got.Since == nil {
		t.Errorf("rot after the restart = %v, want reauth_required with X's refusal", got)
	}
	if code, accounts := n2.readyz(t); code != http.StatusOK || accounts["rot"]["auth_state"] != "reauth_required" ||
		!strings.Contains(accounts["rot"]["detail"].(string), "HTTP 400") || !strings.Contains(accounts["rot"]["action"].(string), "put new tokens") {
		t.Errorf("/readyz after the restart: %d %v", code, accounts)
	}
	r = runCtlBin(t, ctlAs, "status", "--server", n2.base)
	for _, want := range []string{"\nrot      oauth2  publishing  reauth_required  20", "HTTP 400 Bad Request",
		"\nrot needs re-authorization: put new tokens in the account's environment, then herald ctl reload (or restart)\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("herald ctl status does not show %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
	stopClean(t, n2.node)
	var dropped, refused, other int
	for _, req := range w.fake.Requests() {
		switch {
		case req.Endpoint != fakex.EndpointToken:
		case req.Dropped:
			dropped++
		case req.Status == http.StatusBadRequest:
			refused++
		default:
			other++
		}
	}
	if dropped != 1 || refused != 1 || other != 0 {
		t.Errorf("token requests: %d dropped, %d refused, %d other; want the lost one and one retry", dropped, refused, other)
	}

	// The operator re-authorizes: new tokens in the environment.
	w.fake.AddUser(fakex.User{ID: "77", Username: "rot", AccessToken: "at-new", RefreshToken: "rt-new", ClientID: "client-1", ClientSecret: "secret-1"})
	env = append(env, "X_ROT_ACCESS=at-new", "X_ROT_REFRESH=rt-new")
	n3 := startAccountsNode(t, w, env)
	if got := n3.account(t, ctx, "rot"); got.AuthState != adminv1.AuthState_AUTH_STATE_OK {
		t.Errorf("rot after re-authorization = %v, want ok", got)
	}
	if code, accounts := n3.readyz(t); code != http.StatusOK || accounts != nil {
		t.Errorf("/readyz after re-authorization: %d %v", code, accounts)
	}
	stopClean(t, n3.node)
	for _, l := range append(append(n.snapshot(), n2.snapshot()...), n3.snapshot()...) {
		if b, _ := json.Marshal(l); strings.Contains(string(b), "rt-0") || strings.Contains(string(b), "secret-1") || strings.Contains(string(b), "rt-new") {
			t.Errorf("a secret reached the logs: %s", b)
		}
	}
}
