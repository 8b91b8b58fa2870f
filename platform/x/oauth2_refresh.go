package x

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/herald-social/herald/platform/x/xapi"
)

// The refresh protocol. The account's state entry in the store is the
// lock and the log of a refresh (a Redis lock may come first, as a fast
// path: see oauth2_lock.go):
//
//  0. Take the refresh lock, if there is one, waiting while another
//     process holds it; go on without it if it fails.
//  1. Read the entry. If it holds a pair this process does not have (the
//     same lineage, no marker), another process refreshed: use it. If X
//     refused its refresh token, stop (reauth). If another process's
//     marker is there and fresh, that process is calling X: wait for its
//     pair (awaitMax) rather than spend the token a second time.
//  2. Write a marker (RefreshStarted) over the entry, compare-and-swap on
//     the version read in 1. Losing the swap means another process wrote
//     meanwhile: back to 1.
//  3. Call X with the entry's refresh token.
//  4. Write the new pair, clearing the marker. The holder of X's answer
//     holds the only live refresh token, so it overwrites whatever a
//     conflict finds (at worst a marker or a refusal about the token it
//     spent).
//
// A process that dies between 3 and 4 leaves the marker: whoever finds
// it later (a process that starts, or any refresh once the marker is
// older than markerStale) knows the token may be spent and tries it once.

// markerStale is the age past which another process's marker is taken to
// be abandoned (that process died or lost the answer): a refresh is one
// request, bounded by the client's timeout (30 s by default).
const markerStale = 2 * time.Minute

// awaitMax bounds the wait for another process's refresh, and
// awaitPoll is how often the store is read meanwhile. Both are real
// time: the wait depends on that process's progress, not on Herald's
// clock.
const (
	awaitMax  = 10 * time.Second
	awaitPoll = 50 * time.Millisecond
)

// errRefreshBusy: x: another process is refreshing the account's token
// and did not store its result within awaitMax. Transient: the next
// attempt uses its pair or, once its marker is stale, takes over.
var errRefreshBusy = errors.New("x: another process is refreshing this account's OAuth 2.0 token")

// refreshLocked rotates the tokens (a.mu is held). With recovering (a
// process that starts and found a marker or a refusal), a refused token
// is tried once more, and a fresh marker of another process is taken
// over once awaitMax has passed without its result.
func (a *oauth2Auth) refreshLocked(ctx context.Context, recovering bool) error {
	if a.unsaved {
		// The last refresh's pair is not stored yet: store it before
		// anything else, or a restart would come back with a spent token.
		if err := a.save(ctx); err != nil {
			return err
		}
	}
	unlock := a.lockRefresh(ctx)
	defer unlock()
	var deadline time.Time // of the wait for another process
	for conflicts := 0; ; {
		cur, version, found, err := a.stored(ctx)
		if err != nil {
			return fmt.Errorf("account %s: %w", a.account, err)
		}
		base := a.tok
		if found && a.descends(cur) {
			waitOver := !deadline.IsZero() && !time.Now().Before(deadline)
			switch {
			case cur.Reauth != "" && !recovering:
				a.tok, a.version = cur, version
				return a.reauthError(cur.Reauth)
			case cur.RefreshStarted.IsZero() && cur.Reauth == "" && cur.RefreshToken != a.tok.RefreshToken:
				a.adopt(cur, version)
				return nil
			case a.inFlightElsewhere(cur) && !(recovering && waitOver):
				if waitOver {
					return fmt.Errorf("account %s: %w (since %s); try again shortly", a.account, errRefreshBusy, cur.RefreshStarted.UTC().Format(time.RFC3339))
				}
				if deadline.IsZero() {
					deadline = time.Now().Add(cmp.Or(a.awaitMax, awaitMax))
				}
				if err := sleep(ctx, awaitPoll); err != nil {
					return err
				}
				continue
			}
			base = cur
		}
		marker := a.marker(base)
		v, err := a.put(ctx, marker, version)
		if errors.Is(err, ErrTokenConflict) && conflicts < 10 {
			conflicts++
			continue // another process wrote: read what it wrote
		}
		if err != nil {
			return fmt.Errorf("account %s: recording the refresh before calling X (nothing was sent): %w", a.account, err)
		}
		a.tok, a.version = marker, v
		return a.spend(ctx, marker)
	}
}

// marker is base marked as being refreshed by this process. A marker of
// another process taken over keeps its meaning: the token may be spent.
func (a *oauth2Auth) marker(base tokenState) tokenState {
	m := base
	now := a.clock.Now()
	if !base.RefreshStarted.IsZero() && base.RefreshBy != a.instance && base.Unresolved == "" {
		m.Unresolved = fmt.Sprintf("a refresh began at %s and never stored its result: X may have spent the refresh token",
			base.RefreshStarted.UTC().Format(time.RFC3339))
		m.UnresolvedAt = base.RefreshStarted
	}
	m.Seed, m.RefreshStarted, m.RefreshBy, m.RekeyedAt = a.seed, now, a.instance, time.Time{}
	m.Reauth, m.ReauthAt = "", time.Time{}
	return m
}

// inFlightElsewhere reports whether cur is another process's marker of a
// refresh that may still be running.
func (a *oauth2Auth) inFlightElsewhere(cur tokenState) bool {
	return !cur.RefreshStarted.IsZero() && cur.Unresolved == "" && cur.RefreshBy != a.instance &&
		a.clock.Now().Sub(cur.RefreshStarted) < markerStale
}

// adopt takes the pair another process stored.
func (a *oauth2Auth) adopt(cur tokenState, version int64) {
	a.tok, a.version, a.lastRefresh = cur, version, a.clock.Now()
	a.logger.Info("oauth2: using the token another process refreshed", slog.String("account", a.account), slog.Int64("version", version))
}

// spend calls X with the marked refresh token and stores the answer.
func (a *oauth2Auth) spend(ctx context.Context, marker tokenState) error {
	t, err := a.refresher.RefreshToken(ctx, xapi.RefreshRequest{ClientID: a.clientID, ClientSecret: a.clientSecret, RefreshToken: marker.RefreshToken})
	if err != nil {
		return a.failed(ctx, marker, fmt.Errorf("account %s: refreshing the OAuth 2.0 token: %w", a.account, err))
	}
	next := tokenState{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, ExpiresAt: t.ExpiresAt, IssuedAt: a.clock.Now(), Seed: a.seed}
	if next.RefreshToken == "" {
		next.RefreshToken = marker.RefreshToken // X always rotates; a server that does not keeps the old one valid
	}
	a.tok, a.unsaved, a.lastRefresh = next, true, a.clock.Now()
	if err := a.save(ctx); err != nil {
		return err
	}
	a.logger.Info("oauth2: token refreshed and stored", slog.String("account", a.account), slog.Int64("version", a.version))
	return nil
}

// failed records what a failed call to X's token endpoint means for the
// marked token, and returns the error to give the request.
func (a *oauth2Auth) failed(ctx context.Context, marker tokenState, err error) error {
	switch xapi.ClassOf(err) {
	case xapi.ClassReauth:
		return a.refused(ctx, marker, err)
	case xapi.ClassAmbiguous:
		// X may have spent the token, and its successor is lost: keep
		// the marker and say so.
		m := marker
		m.Unresolved, m.UnresolvedAt = "the answer of X's token endpoint was lost: X may have spent the refresh token", a.clock.Now()
		a.putBestEffort(ctx, m)
		a.logger.Warn("oauth2: the answer to a token refresh was lost: the account may need re-authorization; the next refresh tries the stored refresh token once more",
			slog.String("account", a.account), slog.String("error", err.Error()))
		// The request that needed the token was not sent.
		return &xapi.Error{Endpoint: xapi.EndpointToken, Class: xapi.ClassTransient, Err: err}
	}
	// X did not take the token (no answer before the request was
	// written, a 5xx, a rate limit): lift the marker.
	m := marker
	m.RefreshStarted, m.RefreshBy = time.Time{}, ""
	a.putBestEffort(ctx, m)
	return err
}

// refused records X's refusal of the marked token: the account needs
// re-authorization, unless another process stored a successor meanwhile
// (it won a race for this token), whose pair is then used.
func (a *oauth2Auth) refused(ctx context.Context, marker tokenState, err error) error {
	m := marker
	m.RefreshStarted, m.RefreshBy, m.Unresolved, m.UnresolvedAt = time.Time{}, "", "", time.Time{}
	m.Reauth, m.ReauthAt = err.Error(), a.clock.Now()
	for try := 0; try < 5; try++ {
		v, perr := a.put(ctx, m, a.version)
		if perr == nil {
			a.tok, a.version = m, v
			break
		}
		cur, version, found, rerr := a.stored(ctx)
		if !errors.Is(perr, ErrTokenConflict) || rerr != nil {
			a.tok = m // the store will hear of it from the next refresh
			break
		}
		if found && a.descends(cur) && cur.RefreshToken != marker.RefreshToken {
			// Another process has moved past the refused token.
			switch {
			case cur.Reauth != "":
				a.tok, a.version = cur, version
				return a.reauthError(cur.Reauth)
			case cur.RefreshStarted.IsZero():
				a.adopt(cur, version)
				return nil
			}
			a.tok, a.version = cur, version
			return fmt.Errorf("account %s: %w", a.account, errRefreshBusy)
		}
		a.version = version
	}
	a.logger.Error("oauth2: X refused the stored refresh token: the account needs re-authorization (new tokens in its environment, then a reload or restart)",
		slog.String("account", a.account), slog.String("error", err.Error()))
	return err
}

// reauthError is the error of a request whose account X refused.
func (a *oauth2Auth) reauthError(reason string) error {
	return &xapi.Error{Endpoint: xapi.EndpointToken, Class: xapi.ClassReauth,
		Err: fmt.Errorf("account %s needs re-authorization: X refused its refresh token: %s", a.account, reason)}
}

// save writes the current pair with a compare-and-swap on the version
// read, retrying a few times on a transient store error.
func (a *oauth2Auth) save(ctx context.Context) error {
	// A legacy or re-encrypted state is rewritten with the current seed.
	a.tok.Seed, a.tok.RekeyedAt = a.seed, time.Time{}
	var last error
	for try := 0; try < 3; try++ {
		v, err := a.put(ctx, a.tok, a.version)
		if err == nil {
			a.version, a.unsaved = v, false
			return nil
		}
		if errors.Is(err, ErrTokenConflict) {
			// Another process wrote meanwhile: a marker or a refusal of
			// the token this process just spent (X answered it only
			// once). Ours is the live pair: take its version and
			// overwrite.
			if st, gerr := a.st.GetToken(ctx, a.account); gerr == nil {
				a.version = st.Version
			}
		}
		last = err
	}
	return fmt.Errorf("account %s: storing the rotated OAuth 2.0 token (kept in memory, stored before its next use): %w", a.account, last)
}

// put seals t and writes it if the entry is still at version.
func (a *oauth2Auth) put(ctx context.Context, t tokenState, version int64) (int64, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return 0, err
	}
	sealed, err := a.sealer.seal(a.account, plain)
	if err != nil {
		return 0, err
	}
	return a.st.PutToken(ctx, a.account, sealed, version)
}

// putBestEffort writes t over this process's marker; on failure the
// marker stays, which errs on the side of caution.
func (a *oauth2Auth) putBestEffort(ctx context.Context, t tokenState) {
	v, err := a.put(ctx, t, a.version)
	if err != nil {
		a.logger.Warn("oauth2: could not update the refresh marker", slog.String("account", a.account), slog.String("error", err.Error()))
		return
	}
	a.tok, a.version = t, v
}

// sleep waits d of real time, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
