package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/internal/storeutil"
)

// GetState reads one entry, or store.ErrNotFound.
func (s *Store) GetState(ctx context.Context, key string) (store.State, error) {
	var (
		st      store.State
		updated int64
	)
	err := s.pool.QueryRow(ctx, `SELECT value, version, updated_at FROM kv_state WHERE key = $1`, key).
		Scan(&st.Value, &st.Version, &updated)
	if err != nil {
		return store.State{}, fmt.Errorf("postgres: get state %q: %w", key, interpretError(err))
	}
	st.Value, st.UpdatedAt = storeutil.StateValue(st.Value), storeutil.Time(updated)
	return st, nil
}

// PutState writes one entry if its version is still params.Version. The
// conditional insert or update decides; under the write lock no other
// writer runs in between.
func (s *Store) PutState(ctx context.Context, params store.PutStateParams) (int64, error) {
	p, err := storeutil.CheckPutState(params)
	if err != nil {
		return 0, fmt.Errorf("postgres: %w", err)
	}
	var version int64
	err = s.write(ctx, func(tx pgx.Tx) error {
		var err error
		if p.Version == 0 {
			err = tx.QueryRow(ctx, `INSERT INTO kv_state (key, value, version, updated_at) VALUES ($1, $2, 1, $3)
				ON CONFLICT (key) DO NOTHING RETURNING version`, p.Key, p.Value, p.NowN).Scan(&version)
		} else {
			err = tx.QueryRow(ctx, `UPDATE kv_state SET value = $1, version = version + 1, updated_at = $2
				WHERE key = $3 AND version = $4 RETURNING version`, p.Value, p.NowN, p.Key, p.Version).Scan(&version)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return interpretError(err)
		}
		var actual int64
		err = tx.QueryRow(ctx, `SELECT version FROM kv_state WHERE key = $1`, p.Key).Scan(&actual)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return interpretError(err)
		}
		return storeutil.StateConflict(p.PutStateParams, err == nil, actual)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: %w", err)
	}
	return version, nil
}
