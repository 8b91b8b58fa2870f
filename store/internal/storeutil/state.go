package storeutil

import (
	"fmt"

	"github.com/herald-social/herald/store"
)

// PutState is a validated store.PutStateParams.
type PutState struct {
	store.PutStateParams
	NowN int64
}

// CheckPutState validates p. A nil Value is stored as empty.
func CheckPutState(p store.PutStateParams) (s PutState, err error) {
	s.PutStateParams = p
	if p.Key == "" {
		return s, fmt.Errorf("put state: Key is required: %w", store.ErrInvalid)
	}
	if p.Version < 0 {
		return s, fmt.Errorf("put state %q: negative Version: %w", p.Key, store.ErrInvalid)
	}
	if s.NowN, err = Nanos("Now", p.Now); err != nil {
		return s, fmt.Errorf("put state %q: %w", p.Key, err)
	}
	if s.Value == nil {
		s.Value = []byte{}
	}
	return s, nil
}

// StateConflict is the error of a compare-and-swap that did not match:
// found says whether the key exists, at version actual. It never shows the
// value.
func StateConflict(p store.PutStateParams, found bool, actual int64) error {
	switch {
	case !found:
		return fmt.Errorf("put state %q at version %d: the key does not exist: %w", p.Key, p.Version, store.ErrConflict)
	case p.Version == 0:
		return fmt.Errorf("put state %q as new: the key exists at version %d: %w", p.Key, actual, store.ErrConflict)
	}
	return fmt.Errorf("put state %q at version %d: the key is at version %d: %w", p.Key, p.Version, actual, store.ErrConflict)
}

// StateValue normalises a value read back: never nil.
func StateValue(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}
