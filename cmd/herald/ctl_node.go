package main

import (
	"fmt"
	"io"
	"strings"

	"connectrpc.com/connect"

	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
)

func runCtlStatus(c *ctl, args []string) int {
	fs := c.flagSet("status", `Describes the node: its id and version, the configuration running, the
last reload (with its errors when it was rejected), the health of the
store and of Redis, warnings about the cluster, every configured account
with the state of its credentials (ok, refresh_in_progress_found: may need
re-authorization, reauth_required: needs re-authorization), and the nodes
sharing the store (see herald ctl nodes).`)
	if _, code := c.start(fs, args); code != proceed {
		return code
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.GetStatus(ctx, connect.NewRequest(&adminv1.GetStatusRequest{}))
	if err != nil {
		return c.fail(err)
	}
	s := resp.Msg
	now := c.env.now()
	var nodes []*adminv1.Node // only in the table: --json prints the status alone
	if !c.json {
		if r, err := c.client.ListNodes(ctx, connect.NewRequest(&adminv1.ListNodesRequest{})); err == nil {
			nodes = r.Msg.GetNodes()
		}
	}
	return c.print(s, func(w io.Writer) {
		fmt.Fprintf(w, "node\t%s\n", orDash(s.GetNodeId()))
		fmt.Fprintf(w, "version\t%s\n", orDash(s.GetVersion()))
		fmt.Fprintf(w, "started\t%s\n", fmtWhen(s.GetStartedAt(), now))
		config := "revision " + orDash(s.GetConfigRevision())
		if s.GetConfigCommit() != "" {
			config += ", commit " + s.GetConfigCommit()
		}
		fmt.Fprintf(w, "config\t%s\n", config)
		fmt.Fprintf(w, "schedules\t%d\n", s.GetSchedulesLoaded())
		fmt.Fprintf(w, "dry run\t%t\n", s.GetDryRun())
		if r := s.GetLastReload(); r != nil {
			fmt.Fprintf(w, "last reload\t%s\n", reloadSummary(r))
			for _, e := range r.GetErrors() {
				fmt.Fprintf(w, "\t%s\n", e)
			}
		}
		fmt.Fprintf(w, "store\t%s\n", healthText(s.GetStore()))
		fmt.Fprintf(w, "redis\t%s\n", healthText(s.GetRedis()))
		jobs := fmt.Sprintf("%d", s.GetStoreJobs())
		if s.GetStoreJobsApproximate() {
			jobs = "about " + jobs
		}
		fmt.Fprintf(w, "jobs\t%s, oldest planned %s\n", jobs, fmtWhen(s.GetOldestJobPlannedAt(), now))
		for _, warning := range s.GetWarnings() {
			fmt.Fprintf(w, "warning\t%s\n", warning)
		}
		writeAccounts(w, s.GetAccounts())
		if len(nodes) > 0 {
			fmt.Fprintln(w, "\nnodes")
			writeNodes(w, nodes, now)
		}
	})
}

// writeAccounts writes the accounts as a table of their own, then, for
// each one whose credentials are not known good, what to do.
func writeAccounts(w io.Writer, accounts []*adminv1.AccountStatus) {
	if len(accounts) == 0 {
		return
	}
	fmt.Fprintln(w, "\naccounts")
	fmt.Fprintln(w, "ACCOUNT\tAUTH\tMODE\tSTATE\tSINCE\tDETAIL")
	var hints []string
	for _, a := range accounts {
		mode := "publishing"
		if a.GetDryRun() {
			mode = "dry run"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", a.GetName(), orDash(a.GetAuth()), mode, authStateName(a.GetAuthState()),
			fmtTime(a.GetSince()), cell(a.GetDetail(), 120))
		if hint := authStateHint(a.GetAuthState()); hint != "" {
			hints = append(hints, a.GetName()+" "+hint)
		}
	}
	if len(hints) > 0 {
		fmt.Fprintln(w)
		for _, h := range hints {
			fmt.Fprintln(w, h)
		}
	}
}

// authStateName is a state as the README names it: ok, reauth_required.
func authStateName(s adminv1.AuthState) string {
	if s == adminv1.AuthState_AUTH_STATE_UNSPECIFIED {
		return "-"
	}
	return strings.ToLower(strings.TrimPrefix(s.String(), "AUTH_STATE_"))
}

// authStateHint says what an operator should do about a state, after the
// account's name.
func authStateHint(s adminv1.AuthState) string {
	switch s {
	case adminv1.AuthState_AUTH_STATE_REFRESH_IN_PROGRESS_FOUND:
		return "may need re-authorization: a token refresh began and its result was never stored; the next refresh tries the stored refresh token once, and if X refuses it, authorize the account again"
	case adminv1.AuthState_AUTH_STATE_REAUTH_REQUIRED:
		return "needs re-authorization: put new tokens in the account's environment, then herald ctl reload (or restart)"
	case adminv1.AuthState_AUTH_STATE_UNKNOWN:
		return "has stored tokens that could not be read: check the store and HERALD_TOKEN_KEY"
	}
	return ""
}

func runCtlReload(c *ctl, args []string) int {
	fs := c.flagSet("reload", `Loads and validates the configuration and applies it when it is valid, by
the same path as a file change or SIGHUP. Prints the result and, for a
rejected configuration, its errors as FILE:LINE:COL: message; exits 1 when
the configuration was rejected (the previous one keeps running).`)
	if _, code := c.start(fs, args); code != proceed {
		return code
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.Reload(ctx, connect.NewRequest(&adminv1.ReloadRequest{}))
	if err != nil {
		return c.fail(err)
	}
	r := resp.Msg.GetResult()
	status := c.print(resp.Msg, func(w io.Writer) {
		fmt.Fprintln(w, reloadSummary(r))
		for _, e := range r.GetErrors() {
			fmt.Fprintln(w, e)
		}
	})
	if status != exitOK {
		return status
	}
	if r.GetResult() != "ok" {
		c.errorf("reload rejected (%s): %s; revision %s keeps running", orDash(r.GetResult()), countErrors(len(r.GetErrors())), orDash(r.GetRevision()))
		return exitCheck
	}
	return exitOK
}

// reloadSummary is one line: "ok (api) at T: revision R, 1 added, 0
// removed, 2 changed".
func reloadSummary(r *adminv1.ReloadResult) string {
	var b strings.Builder
	b.WriteString(orDash(r.GetResult()))
	if r.GetTrigger() != "" {
		fmt.Fprintf(&b, " (%s)", r.GetTrigger())
	}
	if r.GetAt() != nil {
		b.WriteString(" at " + fmtTime(r.GetAt()))
	}
	fmt.Fprintf(&b, ": revision %s, %d added, %d removed, %d changed",
		orDash(r.GetRevision()), r.GetAdded(), r.GetRemoved(), r.GetChanged())
	if n := len(r.GetErrors()); n > 0 {
		b.WriteString(", " + countErrors(n))
	}
	return b.String()
}

func healthText(h *adminv1.Health) string {
	if h == nil {
		return "-"
	}
	if h.GetDetail() != "" {
		return orDash(h.GetState()) + ": " + cell(h.GetDetail(), 200)
	}
	return orDash(h.GetState())
}

func countErrors(n int) string {
	return fmt.Sprintf("%d %s", n, plural(n, "error", "errors"))
}
