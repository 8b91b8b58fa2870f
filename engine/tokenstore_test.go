package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform/x"
	"github.com/herald-social/herald/store"
)

// The adapter translates the store's sentinels into x's and keeps each
// account's state under the key Herald has always used.
func TestTokenStoreAdapter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	ts := tokenStore{s, clock.NewFake(t0)}
	if _, err := ts.GetToken(ctx, "brand"); !errors.Is(err, x.ErrTokenNotFound) {
		t.Fatalf("GetToken of nothing: %v, want x.ErrTokenNotFound", err)
	}
	v1, err := ts.PutToken(ctx, "brand", []byte("sealed-1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		version int64
		want    error
	}{
		{"create over an existing entry", 0, x.ErrTokenConflict},
		{"a stale version", v1 + 1, x.ErrTokenConflict},
		{"the version read", v1, nil},
	}
	for _, tt := range tests {
		if _, err := ts.PutToken(ctx, "brand", []byte("sealed-2"), tt.version); !errors.Is(err, tt.want) {
			t.Errorf("%s: PutToken = %v, want %v", tt.name, err, tt.want)
		}
	}
	got, err := ts.GetToken(ctx, "brand")
	if err != nil || string(got.Value) != "sealed-2" || got.Version != v1+1 {
		t.Errorf("GetToken = %+v, %v; want sealed-2 at version %d", got, err, v1+1)
	}
	if st, err := s.GetState(ctx, "oauth2/brand"); err != nil || string(st.Value) != "sealed-2" {
		t.Errorf("the store's entry oauth2/brand = %q, %v", st.Value, err)
	}
	if _, err := s.GetState(ctx, "oauth2/other"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another account's entry: %v", err)
	}
}
