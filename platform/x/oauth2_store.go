package x

import (
	"context"
	"errors"
)

// TokenStore keeps each account's OAuth 2.0 token state, sealed (encrypted
// by this package before it gets there), with a version for
// compare-and-swap: the store is what serializes the refreshes of every
// process sharing it (see oauth2_refresh.go). Package x declares what it
// needs rather than importing package store; the engine adapts its store.
type TokenStore interface {
	// GetToken reads the account's entry, or an error wrapping
	// ErrTokenNotFound when there is none.
	GetToken(ctx context.Context, account string) (TokenEntry, error)
	// PutToken writes the account's entry if its version is still
	// version (0: the entry must not exist yet) and returns the new
	// version; otherwise nothing changes and the error wraps
	// ErrTokenConflict.
	PutToken(ctx context.Context, account string, value []byte, version int64) (int64, error)
}

// TokenEntry is an account's stored, sealed token state.
type TokenEntry struct {
	Value   []byte
	Version int64 // the compare-and-swap token of the next PutToken
}

var (
	// ErrTokenNotFound: x: no token state is stored for the account (it
	// never refreshed: the environment's tokens are used).
	ErrTokenNotFound = errors.New("x: no stored token state")
	// ErrTokenConflict: x: the account's stored token state changed since
	// it was read (another process wrote): read it again.
	ErrTokenConflict = errors.New("x: stored token state changed")
)

// RefreshLock serializes the token refreshes of an account across the
// processes that share a TokenStore (a Redis lock, package cluster). It
// is a fast path: the store's marker and compare-and-swap remain the
// guarantee, and a refresh goes on without the lock when TryLock fails.
// It is a try, not a wait: how long to wait for another process's
// refresh is the refresh protocol's decision (oauth2_refresh.go).
type RefreshLock interface {
	// TryLock takes the account's refresh lock if no process holds it.
	// ok is false when another process holds it. unlock releases it if it
	// is still this process's (it may have expired); calling it twice is
	// safe. An error means the lock's service failed: nothing was taken.
	TryLock(ctx context.Context, account string) (unlock func(), ok bool, err error)
}
