package x

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrAlreadyRekeyed: x: a stored token state already opens with the new
// key (an earlier run of the rotation, or a node that rewrote it).
var ErrAlreadyRekeyed = errors.New("x: the stored token state is already sealed with the new key")

// ErrWrongOldKey: x: a stored token state opens with neither the old key
// nor the new one.
var ErrWrongOldKey = errors.New("x: the stored token state opens with neither the old key nor the new one")

// Rekey re-encrypts an account's sealed token state, sealed under oldKey
// (either format), under newKey, for 'herald rotate-token-key'. It
// returns an error wrapping ErrAlreadyRekeyed when newKey opens the state
// already, and one wrapping ErrWrongOldKey when neither key does.
//
// The state's seed names the environment's refresh token under oldKey,
// and the environment's tokens are not here to compute it under newKey:
// the state is marked re-encrypted at now (RekeyedAt) instead, which
// nodes read as descending from the environment's token, and the next
// write by a node replaces the seed (see descendsFrom).
func Rekey(account string, sealed, oldKey, newKey []byte, now time.Time) ([]byte, error) {
	if bytes.Equal(oldKey, newKey) {
		return nil, errors.New("x: the old and the new token keys are the same")
	}
	oldS, err := newSealer(oldKey)
	if err != nil {
		return nil, err
	}
	newS, err := newSealer(newKey)
	if err != nil {
		return nil, err
	}
	plain, _, err := oldS.openFormat(account, sealed)
	if err != nil {
		if _, _, nerr := newS.openFormat(account, sealed); nerr == nil {
			return nil, ErrAlreadyRekeyed
		}
		return nil, ErrWrongOldKey
	}
	// A map, not a tokenState, so that fields a newer Herald wrote
	// survive a rotation by this one.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(plain, &fields); err != nil {
		return nil, fmt.Errorf("stored token state: %w", err)
	}
	if _, ok := fields["rekeyed_at"]; !ok {
		fields["rekeyed_at"], _ = json.Marshal(now.UTC())
	}
	if plain, err = json.Marshal(fields); err != nil {
		return nil, err
	}
	return newS.seal(account, plain)
}
