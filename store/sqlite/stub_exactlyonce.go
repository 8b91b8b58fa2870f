package sqlite

import (
	"context"
	"errors"

	"github.com/herald-social/herald/store"
)

// Temporary: replaced by the real implementations in this session.

func (s *Store) FreezePost(ctx context.Context, params store.FreezePostParams) (store.Job, error) {
	return store.Job{}, errors.New("FreezePost: not implemented")
}

func (s *Store) RecordMedia(ctx context.Context, params store.RecordMediaParams) (store.Job, error) {
	return store.Job{}, errors.New("RecordMedia: not implemented")
}

func (s *Store) ClaimUnknown(ctx context.Context, params store.ClaimUnknownParams) ([]store.Job, error) {
	return nil, errors.New("ClaimUnknown: not implemented")
}
