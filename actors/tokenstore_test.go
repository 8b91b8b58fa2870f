package actors

import (
	"context"
	"errors"
	"fmt"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform/x"
	"github.com/herald-social/herald/store"
)

// xTokens is x.TokenStore over the test's store, as the engine adapts it
// (engine/tokenstore.go, which this package cannot import).
type xTokens struct {
	st  store.Store
	clk clock.Clock
}

func (s xTokens) GetToken(ctx context.Context, account string) (x.TokenEntry, error) {
	st, err := s.st.GetState(ctx, "oauth2/"+account)
	if errors.Is(err, store.ErrNotFound) {
		return x.TokenEntry{}, fmt.Errorf("%w: %w", x.ErrTokenNotFound, err)
	}
	return x.TokenEntry{Value: st.Value, Version: st.Version}, err
}

func (s xTokens) PutToken(ctx context.Context, account string, value []byte, version int64) (int64, error) {
	v, err := s.st.PutState(ctx, store.PutStateParams{Key: "oauth2/" + account, Value: value, Version: version, Now: s.clk.Now()})
	if errors.Is(err, store.ErrConflict) {
		return 0, fmt.Errorf("%w: %w", x.ErrTokenConflict, err)
	}
	return v, err
}
