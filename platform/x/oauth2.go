package x

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform/x/xapi"
	"github.com/herald-social/herald/store"
)

// oauth2Auth is an X OAuth 2.0 user context whose tokens rotate.
//
// X's refresh tokens are single-use: each refresh returns a new one and
// spends the old. So the new pair is written to the store (encrypted)
// BEFORE it is used, only one refresh runs at a time per account, and at
// start the stored pair wins over the one in the environment unless the
// environment's was changed since (an operator re-authorized): the stored
// state remembers which environment token it descends from (its seed, an
// HMAC of that token, never the token).
type oauth2Auth struct {
	account      string
	clientID     string
	clientSecret string
	refresher    *xapi.Client // no Auth: the token endpoint takes client credentials
	st           store.Store
	sealer       *sealer // nil when there is no refresh token to protect
	clock        clock.Clock
	logger       *slog.Logger
	seed         string
	// legacySeed is the seed as Herald computed it before keys were
	// derived from the token key, to recognise states stored then.
	legacySeed string

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
	Seed         string    `json:"seed"`
}

func tokenKey(account string) string { return "oauth2/" + account }

// load decides the starting tokens: the stored (rotated) pair when it
// descends from the environment's refresh token, else the environment's.
func (a *oauth2Auth) load(ctx context.Context, env tokenState) error {
	a.tok = env
	if a.sealer == nil {
		return nil
	}
	a.legacySeed = a.sealer.legacySeedOf(env.RefreshToken)
	st, err := a.st.GetState(ctx, tokenKey(a.account))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading stored tokens: %w", err)
	}
	stored, err := a.decode(st.Value)
	if err != nil {
		return err
	}
	a.version = st.Version
	if a.descends(stored) {
		a.tok = stored
		a.logger.Info("oauth2: using rotated tokens from the store", slog.String("account", a.account))
	} else {
		a.logger.Info("oauth2: the environment's refresh token changed since the stored one; using the environment's", slog.String("account", a.account))
	}
	return nil
}

// descends reports whether a stored state comes from the environment's
// refresh token (by rotation), in the current seed or the legacy one.
func (a *oauth2Auth) descends(t tokenState) bool {
	return t.Seed == a.seed || (a.legacySeed != "" && t.Seed == a.legacySeed)
}

func (a *oauth2Auth) decode(sealed []byte) (tokenState, error) {
	plain, err := a.sealer.open(a.account, sealed)
	if err != nil {
		return tokenState{}, err
	}
	var t tokenState
	if err := json.Unmarshal(plain, &t); err != nil {
		return tokenState{}, fmt.Errorf("stored token state: %w", err)
	}
	return t, nil
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
	if a.canRefresh() && !a.tok.ExpiresAt.IsZero() && a.clock.Now().After(a.tok.ExpiresAt.Add(-time.Minute)) {
		if err := a.refreshLocked(ctx); err != nil {
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
	// flight with the old token: use theirs.
	if !a.lastRefresh.IsZero() && a.clock.Now().Sub(a.lastRefresh) < 30*time.Second {
		return true, nil
	}
	if err := a.refreshLocked(ctx); err != nil {
		return false, err
	}
	return true, nil
}

func (a *oauth2Auth) canRefresh() bool {
	return a.tok.RefreshToken != "" && a.clientID != "" && a.sealer != nil
}

// refreshLocked rotates the tokens: adopt a newer stored pair if another
// node refreshed, else spend the refresh token, store the new pair, and
// only then use it.
func (a *oauth2Auth) refreshLocked(ctx context.Context) error {
	if a.unsaved {
		// The last refresh's pair is not stored yet: store it before
		// anything else, or a restart would come back with a spent token.
		if err := a.save(ctx); err != nil {
			return err
		}
	}
	if st, err := a.st.GetState(ctx, tokenKey(a.account)); err == nil && st.Version > a.version {
		if stored, err := a.decode(st.Value); err == nil && a.descends(stored) && stored.AccessToken != a.tok.AccessToken {
			a.tok, a.version, a.lastRefresh = stored, st.Version, a.clock.Now()
			return nil
		}
	}
	t, err := a.refresher.RefreshToken(ctx, xapi.RefreshRequest{ClientID: a.clientID, ClientSecret: a.clientSecret, RefreshToken: a.tok.RefreshToken})
	if err != nil {
		return fmt.Errorf("account %s: refreshing the OAuth 2.0 token: %w", a.account, err)
	}
	next := tokenState{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, ExpiresAt: t.ExpiresAt, Seed: a.seed}
	if next.RefreshToken == "" {
		next.RefreshToken = a.tok.RefreshToken // X always rotates; a server that does not keeps the old one valid
	}
	a.tok, a.unsaved, a.lastRefresh = next, true, a.clock.Now()
	if err := a.save(ctx); err != nil {
		return err
	}
	a.logger.Info("oauth2: token refreshed and stored", slog.String("account", a.account), slog.Int64("version", a.version))
	return nil
}

// save writes the current pair with a compare-and-swap on the version
// read, retrying a few times on a transient store error.
func (a *oauth2Auth) save(ctx context.Context) error {
	a.tok.Seed = a.seed // a legacy state is rewritten with the current seed
	plain, err := json.Marshal(a.tok)
	if err != nil {
		return err
	}
	sealed, err := a.sealer.seal(a.account, plain)
	if err != nil {
		return err
	}
	var last error
	for try := 0; try < 3; try++ {
		v, err := a.st.PutState(ctx, store.PutStateParams{Key: tokenKey(a.account), Value: sealed, Version: a.version, Now: a.clock.Now()})
		if err == nil {
			a.version, a.unsaved = v, false
			return nil
		}
		if errors.Is(err, store.ErrConflict) {
			// Another node stored a pair meanwhile. Ours is newer (we
			// just spent the refresh token theirs descends from, or
			// theirs was spent by us): take its version and overwrite.
			if st, gerr := a.st.GetState(ctx, tokenKey(a.account)); gerr == nil {
				a.version = st.Version
			}
		}
		last = err
	}
	return fmt.Errorf("account %s: storing the rotated OAuth 2.0 token (kept in memory, stored before its next use): %w", a.account, last)
}
