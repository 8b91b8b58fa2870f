package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/cluster"
	"github.com/herald-social/herald/platform/x"
	"github.com/herald-social/herald/platform/x/xapi"
	"github.com/herald-social/herald/store"
)

// tokenStore adapts the store's key-value state to x.TokenStore: package
// x keeps its rotated OAuth 2.0 tokens there without importing store.
// Each account's state is the entry "oauth2/<account>", the key Herald
// has always used (states stored by earlier versions are found).
type tokenStore struct {
	st    store.Store
	clock clock.Clock // stamps the entries' UpdatedAt
}

var _ x.TokenStore = tokenStore{}

func tokenStateKey(account string) string { return "oauth2/" + account }

// GetToken reads an account's entry; store.ErrNotFound becomes
// x.ErrTokenNotFound.
func (t tokenStore) GetToken(ctx context.Context, account string) (x.TokenEntry, error) {
	st, err := t.st.GetState(ctx, tokenStateKey(account))
	if errors.Is(err, store.ErrNotFound) {
		return x.TokenEntry{}, fmt.Errorf("%w: %w", x.ErrTokenNotFound, err)
	}
	if err != nil {
		return x.TokenEntry{}, err
	}
	return x.TokenEntry{Value: st.Value, Version: st.Version}, nil
}

// PutToken writes an account's entry with a compare-and-swap on version;
// store.ErrConflict becomes x.ErrTokenConflict.
func (t tokenStore) PutToken(ctx context.Context, account string, value []byte, version int64) (int64, error) {
	v, err := t.st.PutState(ctx, store.PutStateParams{Key: tokenStateKey(account), Value: value, Version: version, Now: t.clock.Now()})
	if errors.Is(err, store.ErrConflict) {
		return 0, fmt.Errorf("%w: %w", x.ErrTokenConflict, err)
	}
	return v, err
}

// refreshLockMargin is what a refresh holds its lock for beyond the
// request to X's token endpoint: the store's writes around it.
const refreshLockMargin = 15 * time.Second

// refreshLock is the Redis lock in front of each account's token refresh
// (key: --redis-prefix + "token:" + account), or nil without --redis. Its
// TTL outlasts a refresh, one request bounded by --request-timeout plus
// the store's writes, so that it is not lost mid-way; a lock lost anyway
// (or a Redis down) leaves the store's protocol in charge, which stays
// correct.
func (e *Engine) refreshLock() x.RefreshLock {
	if e.redis == nil {
		return nil // not a nil *cluster.RefreshLock in the interface
	}
	ttl := cmp.Or(e.cfg.RequestTimeout, xapi.DefaultTimeout) + refreshLockMargin
	return cluster.NewRefreshLock(e.redis, e.cfg.RedisPrefix+"token:", ttl)
}

// TokenStateKey is the key of an account's OAuth 2.0 token state in the
// store's key-value state, for 'herald rotate-token-key', which
// re-encrypts the entries.
func TokenStateKey(account string) string { return tokenStateKey(account) }
