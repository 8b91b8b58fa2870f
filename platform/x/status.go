package x

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/herald-social/herald/schedules"
)

// AuthState is what Herald knows of an account's credentials.
type AuthState string

const (
	// AuthOK: no problem is known.
	AuthOK AuthState = "ok"
	// AuthRefreshInProgressFound: a refresh of the account's token began
	// and its result was never stored (the process died, or X's answer
	// was lost), so X may have spent the refresh token: the account may
	// need re-authorization. The next refresh, or a process that starts,
	// tries the stored refresh token once and settles it.
	AuthRefreshInProgressFound AuthState = "refresh_in_progress_found"
	// AuthReauthRequired: X refused the account's refresh token (spent
	// or revoked) or its client credentials: an operator must authorize
	// the account again.
	AuthReauthRequired AuthState = "reauth_required"
	// AuthUnknown: the stored state could not be read (the store is
	// unreachable, or it does not decrypt with the token key).
	AuthUnknown AuthState = "unknown"
)

// AccountState describes one configured account for the admin API and
// /readyz.
type AccountState struct {
	Account string
	// Auth is the kind of credentials: "oauth2", "oauth1", or "none" (an
	// account without credentials, which publishes in dry run).
	Auth   string
	DryRun bool
	State  AuthState
	// Detail says what is wrong (X's refusal, what was found); empty for
	// AuthOK.
	Detail string
	// Since is when the state began; zero for AuthOK.
	Since time.Time
}

// AccountStates reports every configured account, by name. The state of
// an OAuth 2.0 account with a refresh token is read from the store, so
// every node of a cluster reports the same; the others have nothing to
// rotate and report AuthOK (a refused token shows on its jobs, as dead
// with reason reauth). Accounts that publish in dry run report AuthOK.
func (p *Platform) AccountStates(ctx context.Context) []AccountState {
	p.mu.RLock()
	accounts := make([]*account, 0, len(p.accounts))
	for _, a := range p.accounts {
		accounts = append(accounts, a)
	}
	p.mu.RUnlock()
	sort.Slice(accounts, func(i, j int) bool { return accounts[i].def.Name < accounts[j].def.Name })
	out := make([]AccountState, 0, len(accounts))
	var s *sealer // built on first need
	for _, a := range accounts {
		def := a.def
		st := AccountState{Account: def.Name, Auth: "none", DryRun: a.dryRun, State: AuthOK}
		switch {
		case def.OAuth1 != nil:
			st.Auth = "oauth1"
		case def.OAuth2 != nil:
			st.Auth = "oauth2"
		}
		if !a.dryRun && def.OAuth2 != nil && !def.OAuth2.RefreshToken.IsZero() {
			if s == nil {
				var err error
				if s, err = newSealer(p.opts.TokenKey, p.opts.PreviousTokenKeys...); err != nil {
					st.State, st.Detail = AuthUnknown, err.Error()
					out = append(out, st)
					continue
				}
			}
			st.State, st.Detail, st.Since = p.storedAuthState(ctx, s, def)
		}
		out = append(out, st)
	}
	return out
}

// storedAuthState reads the state of an account whose tokens rotate.
func (p *Platform) storedAuthState(ctx context.Context, s *sealer, def *schedules.Account) (AuthState, string, time.Time) {
	got, err := p.opts.Store.GetToken(ctx, def.Name)
	if errors.Is(err, ErrTokenNotFound) {
		return AuthOK, "", time.Time{} // never refreshed: the environment's tokens
	}
	if err != nil {
		return AuthUnknown, fmt.Sprintf("reading stored tokens: %v", err), time.Time{}
	}
	plain, err := s.open(def.Name, got.Value)
	if err != nil {
		return AuthUnknown, err.Error(), time.Time{}
	}
	var t tokenState
	if err := json.Unmarshal(plain, &t); err != nil {
		return AuthUnknown, fmt.Sprintf("stored token state: %v", err), time.Time{}
	}
	// A state that does not descend from the environment's refresh token
	// is not used (an operator re-authorized since).
	env, err := p.opts.Secrets.Resolve(def.OAuth2.RefreshToken)
	if err != nil {
		return AuthUnknown, fmt.Sprintf("oauth2.refresh_token: %v", err), time.Time{}
	}
	if !descendsFrom(t, s.seedOf(env), s.oldSeedsOf(env)) {
		return AuthOK, "", time.Time{}
	}
	return authStateOf(t, p.opts.Clock.Now())
}

// authStateOf reads a stored token state.
func authStateOf(t tokenState, now time.Time) (AuthState, string, time.Time) {
	switch {
	case t.Reauth != "":
		return AuthReauthRequired, t.Reauth, t.ReauthAt
	case t.Unresolved != "":
		return AuthRefreshInProgressFound, t.Unresolved, t.UnresolvedAt
	case !t.RefreshStarted.IsZero() && now.Sub(t.RefreshStarted) >= markerStale:
		return AuthRefreshInProgressFound, fmt.Sprintf("a refresh began at %s and never stored its result: X may have spent the refresh token",
			t.RefreshStarted.UTC().Format(time.RFC3339)), t.RefreshStarted
	}
	// No marker, or that of a refresh still running.
	return AuthOK, "", time.Time{}
}
