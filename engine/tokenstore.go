package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform/x"
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
