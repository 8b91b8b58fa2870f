package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

// GetState reads one entry, or store.ErrNotFound.
func (s *Store) GetState(ctx context.Context, key string) (store.State, error) {
	var (
		st      store.State
		updated int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT value, version, updated_at FROM kv_state WHERE key = ?`, key).
		Scan(&st.Value, &st.Version, &updated)
	if err != nil {
		return store.State{}, fmt.Errorf("sqlite: get state %q: %w", key, interpretError(err))
	}
	st.Value, st.UpdatedAt = storeutil.StateValue(st.Value), storeutil.Time(updated)
	return st, nil
}

// PutState writes one entry if its version is still params.Version.
func (s *Store) PutState(ctx context.Context, params store.PutStateParams) (int64, error) {
	p, err := storeutil.CheckPutState(params)
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	var version int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if p.Version == 0 {
			err = tx.QueryRowContext(ctx, `INSERT INTO kv_state (key, value, version, updated_at) VALUES (?, ?, 1, ?)
				ON CONFLICT (key) DO NOTHING RETURNING version`, p.Key, p.Value, p.NowN).Scan(&version)
		} else {
			err = tx.QueryRowContext(ctx, `UPDATE kv_state SET value = ?, version = version + 1, updated_at = ?
				WHERE key = ? AND version = ? RETURNING version`, p.Value, p.NowN, p.Key, p.Version).Scan(&version)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return interpretError(err)
		}
		var actual int64
		err = tx.QueryRowContext(ctx, `SELECT version FROM kv_state WHERE key = ?`, p.Key).Scan(&actual)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return interpretError(err)
		}
		return storeutil.StateConflict(p.PutStateParams, err == nil, actual)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	return version, nil
}
