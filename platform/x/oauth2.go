package x

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform/x/xapi"
)

// oauth2Auth is an X OAuth 2.0 user context whose tokens rotate.
//
// X's refresh tokens are single-use: each refresh returns a new one and
// spends the old. So a refresh is recorded in the store (a marker in the
// account's state entry) BEFORE X's token endpoint is called, the new
// pair is written (encrypted, clearing the marker) BEFORE it is used, and
// refreshes are serialized through the store: every write is a
// compare-and-swap on the entry's version, and the process that loses
// rereads the entry and uses what the winner stored instead of calling X
// with a spent token (see oauth2_refresh.go).
//
// At start the stored pair wins over the one in the environment unless
// the environment's was changed since (an operator re-authorized): the
// stored state remembers which environment token it descends from (its
// seed, an HMAC of that token, never the token). A marker found at start
// means a refresh whose result was never stored: the account may need
// re-authorization, which load says (a warning; AccountStates) and checks
// by trying the stored refresh token once.
type oauth2Auth struct {
	account      string
	clientID     string
	clientSecret string
	refresher    *xapi.Client // no Auth: the token endpoint takes client credentials
	st           TokenStore
	lock         RefreshLock // nil: none
	lockHealth   *lockHealth
	sealer       *sealer // nil when there is no refresh token to protect
	clock        clock.Clock
	logger       *slog.Logger
	seed         string
	// oldSeeds are the seeds of the environment's refresh token under
	// earlier schemes and previous keys, to recognise states stored then.
	oldSeeds []string
	// instance names this process in the markers it writes, so that it
	// tells its own from another process's.
	instance string
	// awaitMax bounds the wait for another process's refresh; zero means
	// the constant awaitMax (tests shorten it).
	awaitMax time.Duration

	mu          sync.Mutex
	tok         tokenState
	version     int64     // of the stored state; 0 when not stored yet
	lastRefresh time.Time // when this process last obtained new tokens
	unsaved     bool      // tok came from a refresh the store has not taken yet
}

// tokenState is what is stored, encrypted, per account.
type tokenState struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
	// IssuedAt is when X issued the pair (zero for the environment's):
	// with ExpiresAt, the access token's life, which sets how early it is
	// refreshed (refreshDue).
	IssuedAt time.Time `json:"issued_at,omitzero"`
	Seed     string    `json:"seed"`

	// RefreshStarted marks a refresh in progress: it is written, with
	// RefreshBy (the instance of the process refreshing), before X's
	// token endpoint is called with RefreshToken, and the write of the
	// new pair clears it. A marker left behind means the refresh's result
	// was lost: X may have spent RefreshToken.
	RefreshStarted time.Time `json:"refresh_started,omitzero"`
	RefreshBy      string    `json:"refresh_by,omitempty"`
	// Unresolved says why RefreshToken may have been spent without its
	// successor being stored (an answer lost, a marker left behind), and
	// since when; the next refresh that X answers clears it.
	Unresolved   string    `json:"unresolved,omitempty"`
	UnresolvedAt time.Time `json:"unresolved_at,omitzero"`
	// Reauth is X's refusal of RefreshToken (spent or revoked): the
	// account needs re-authorization by an operator. Processes that read
	// it do not call X with the refused token again, but a process that
	// starts tries it once (bad client credentials are refused alike, and
	// may have been fixed).
	Reauth   string    `json:"reauth,omitempty"`
	ReauthAt time.Time `json:"reauth_at,omitzero"`
	// RekeyedAt is when 'herald rotate-token-key' re-encrypted the state
	// under a new key (see Rekey): Seed is then of the key rotated away,
	// which the next write replaces (and clears this).
	RekeyedAt time.Time `json:"rekeyed_at,omitzero"`
}

// newInstance returns a random name for this process's markers.
func newInstance() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// load decides the starting tokens: the stored (rotated) pair when it
// descends from the environment's refresh token, else the environment's.
// A stored refresh marker or refusal is reported and tried once (see
// recover); its failure does not fail the load, it shows in
// AccountStates.
func (a *oauth2Auth) load(ctx context.Context, env tokenState) error {
	a.tok = env
	if a.sealer == nil {
		return nil
	}
	a.instance = newInstance()
	a.oldSeeds = a.sealer.oldSeedsOf(env.RefreshToken)
	cur, version, found, stale, err := a.storedStale(ctx)
	if err != nil || !found {
		return err
	}
	a.version = version
	if !a.descends(cur) {
		a.logger.Info("oauth2: the environment's refresh token changed since the stored one; using the environment's", slog.String("account", a.account))
		return nil
	}
	a.tok = cur
	a.logger.Info("oauth2: using rotated tokens from the store", slog.String("account", a.account))
	if stale || cur.Seed != a.seed {
		a.rewrite(ctx)
	}
	if cur.Reauth != "" || !cur.RefreshStarted.IsZero() || cur.Unresolved != "" {
		a.recover(ctx, cur)
	}
	return nil
}

// recover handles a stored state that says the refresh token may be
// spent (a marker left behind, an answer lost) or was refused: it warns
// that the account may need re-authorization and tries the stored
// refresh token once. If X refuses it, the account needs
// re-authorization; if X answers, the new pair is stored and the marker
// is gone.
func (a *oauth2Auth) recover(ctx context.Context, found tokenState) {
	attrs := []any{slog.String("account", a.account)}
	if found.Reauth != "" {
		a.logger.Error("oauth2: X refused this account's refresh token: it needs re-authorization (new tokens in its environment, then a reload or restart); trying the stored refresh token once more",
			append(attrs, slog.Time("since", found.ReauthAt), slog.String("error", found.Reauth))...)
	} else {
		state, detail, since := authStateOf(found, a.clock.Now())
		if state == AuthOK { // a refresh in flight elsewhere, not yet abandoned
			detail, since = "a refresh is in progress and its result is not stored yet", found.RefreshStarted
		}
		a.logger.Warn("oauth2: a refresh of this account's token began and its result was never stored: the account may need re-authorization; trying the stored refresh token once",
			append(attrs, slog.Time("since", since), slog.String("detail", detail))...)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	err := a.refreshLocked(ctx, true)
	switch {
	case err == nil:
		a.logger.Info("oauth2: the stored refresh token worked: the account is authorized", attrs...)
	case xapi.ClassOf(err) == xapi.ClassReauth:
		// refused has logged the verdict.
	default:
		a.logger.Warn("oauth2: could not try the stored refresh token now: the account may still need re-authorization; the next refresh tries again",
			append(attrs, slog.String("error", err.Error()))...)
	}
}

// rewrite stores the loaded state again under the current key and seed
// (it was under a previous key, a previous seed or the legacy format), so
// that the previous key can be dropped; a failure leaves it for the next
// write.
func (a *oauth2Auth) rewrite(ctx context.Context) {
	t := a.tok
	t.Seed, t.RekeyedAt = a.seed, time.Time{}
	v, err := a.put(ctx, t, a.version)
	if err != nil {
		a.logger.Warn("oauth2: could not rewrite the stored tokens under the current token key; the next refresh does", slog.String("account", a.account), slog.String("error", err.Error()))
		return
	}
	a.tok, a.version = t, v
	a.logger.Info("oauth2: stored tokens rewritten under the current token key", slog.String("account", a.account))
}

// descends reports whether a stored state comes from the environment's
// refresh token (by rotation): see descendsFrom.
func (a *oauth2Auth) descends(t tokenState) bool {
	return descendsFrom(t, a.seed, a.oldSeeds)
}

// stored reads and decrypts the account's state; found is false when
// there is none. Errors do not name the account: callers do.
func (a *oauth2Auth) stored(ctx context.Context) (t tokenState, version int64, found bool, err error) {
	t, version, found, _, err = a.storedStale(ctx)
	return t, version, found, err
}

// storedStale is stored, and reports a state to rewrite under the
// current key (see sealer.openStale).
func (a *oauth2Auth) storedStale(ctx context.Context) (t tokenState, version int64, found, stale bool, err error) {
	st, err := a.st.GetToken(ctx, a.account)
	if errors.Is(err, ErrTokenNotFound) {
		return tokenState{}, 0, false, false, nil
	}
	if err != nil {
		return tokenState{}, 0, false, false, fmt.Errorf("reading stored tokens: %w", err)
	}
	plain, stale, err := a.sealer.openStale(a.account, st.Value)
	if err != nil {
		return tokenState{}, 0, false, false, err
	}
	if err := json.Unmarshal(plain, &t); err != nil {
		return tokenState{}, 0, false, false, fmt.Errorf("stored token state: %w", err)
	}
	return t, st.Version, true, stale, nil
}

// Authorize sets the bearer token, refreshing first when it has expired
// (or is about to) and a refresh token is there.
func (a *oauth2Auth) Authorize(ctx context.Context, req *http.Request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.unsaved {
		if err := a.save(ctx); err != nil {
			return err
		}
	}
	if a.canRefresh() && a.tok.refreshDue(a.clock.Now()) {
		if err := a.refreshLocked(ctx, false); err != nil {
			return err
		}
	}
	req.Header.Set("Authorization", "Bearer "+a.tok.AccessToken)
	return nil
}

// Refresh obtains a new access token after a 401.
func (a *oauth2Auth) Refresh(ctx context.Context) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.canRefresh() {
		return false, nil
	}
	// Another request of this account refreshed while this one was in
	// flight with the old token: use theirs, unless it is due for a
	// refresh itself (short-lived tokens).
	now := a.clock.Now()
	if !a.lastRefresh.IsZero() && now.Sub(a.lastRefresh) < 30*time.Second && !a.tok.refreshDue(now) {
		return true, nil
	}
	if err := a.refreshLocked(ctx, false); err != nil {
		return false, err
	}
	return true, nil
}

func (a *oauth2Auth) canRefresh() bool {
	return a.tok.RefreshToken != "" && a.clientID != "" && a.sealer != nil
}

// refreshMargin is how long before its expiry an access token is
// refreshed: time for the request it authorizes to reach X.
const refreshMargin = time.Minute

// refreshDue reports whether the access token is to be refreshed at now:
// refreshMargin before it expires, or a quarter of its life when that is
// shorter (a fake X's tokens of seconds would otherwise be refreshed at
// every request). A token of unknown expiry is refreshed after a 401.
func (t tokenState) refreshDue(now time.Time) bool {
	if t.ExpiresAt.IsZero() {
		return false
	}
	margin := refreshMargin
	if life := t.ExpiresAt.Sub(t.IssuedAt); !t.IssuedAt.IsZero() && life > 0 {
		margin = min(margin, life/4)
	}
	return now.After(t.ExpiresAt.Add(-margin))
}
