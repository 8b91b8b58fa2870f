package x

import (
	"context"
	"errors"
	"fmt"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/store"
)

// storeTokens is the tests' TokenStore over a real store.Store, as the
// engine adapts its own (engine/tokenstore.go): tests keep running on
// SQLite, and may wrap the store.Store to make it fail.
type storeTokens struct {
	st  store.Store
	clk clock.Clock
}

// tokenKey is the entry storeTokens keeps an account's state in, the key
// the engine uses too.
func tokenKey(account string) string { return "oauth2/" + account }

func (s storeTokens) GetToken(ctx context.Context, account string) (TokenEntry, error) {
	st, err := s.st.GetState(ctx, tokenKey(account))
	if errors.Is(err, store.ErrNotFound) {
		return TokenEntry{}, fmt.Errorf("%w: %w", ErrTokenNotFound, err)
	}
	if err != nil {
		return TokenEntry{}, err
	}
	return TokenEntry{Value: st.Value, Version: st.Version}, nil
}

func (s storeTokens) PutToken(ctx context.Context, account string, value []byte, version int64) (int64, error) {
	v, err := s.st.PutState(ctx, store.PutStateParams{Key: tokenKey(account), Value: value, Version: version, Now: s.clk.Now()})
	if errors.Is(err, store.ErrConflict) {
		return 0, fmt.Errorf("%w: %w", ErrTokenConflict, err)
	}
	return v, err
}
