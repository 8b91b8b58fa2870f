package store

import "time"

// State is one entry of the store's small versioned key-value state: what
// must survive restarts and be shared by every node without a table of its
// own, such as an account's OAuth refresh token (X rotates it on every
// refresh, so a lost write locks the account out) or the dead-letter webhook
// cursor.
//
// The store keeps Value as opaque bytes: callers encrypt secrets before
// PutState, and the store never sees them in plaintext (nor puts a value in
// an error).
type State struct {
	Value []byte
	// Version increases by one with every successful PutState (1 after the
	// first); it is the compare-and-swap token of the next one.
	Version int64
	// UpdatedAt is the Now of the last PutState, in UTC.
	UpdatedAt time.Time
}

// PutStateParams writes one entry, compare-and-swap on its version, so two
// nodes that both refreshed a token cannot silently overwrite each other:
// the loser gets ErrConflict and rereads.
type PutStateParams struct {
	// Key names the entry (required), for example "oauth2/x/<account>".
	Key   string
	Value []byte
	// Version is the version the caller read: 0 means the entry must not
	// exist yet.
	Version int64
	// Now stamps UpdatedAt (required).
	Now time.Time
}
