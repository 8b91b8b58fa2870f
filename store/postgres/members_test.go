package postgres_test

import (
	"context"
	"errors"
	"hash/fnv"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/postgres/pgtest"
)

// TestMembersBypassWriteLock: heartbeats and pauses go through while
// another transaction holds the schema's write lock (a burst of fires),
// which a job write would wait for.
func TestMembersBypassWriteLock(t *testing.T) {
	t.Parallel()
	s := pgtest.Open(t)
	ctx := context.Background()
	h := fnv.New32a()
	h.Write([]byte(s.Schema()))
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // the test only holds the lock
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(0x48525731), int32(h.Sum32())); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	blocked, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := s.PutState(blocked, store.PutStateParams{Key: "k", Value: []byte("v"), Now: now}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PutState under another's write lock: %v, want it to wait (the lock is not held?)", err)
	}
	// Bounded only so that a regression fails instead of hanging.
	ctx, cancel = context.WithTimeout(ctx, time.Minute)
	defer cancel()
	steps := []struct {
		name string
		run  func() error
	}{
		{"Heartbeat", func() error {
			return s.Heartbeat(ctx, store.HeartbeatParams{Node: store.Node{ID: "n", StartedAt: now}, Now: now, ForgetBefore: now})
		}},
		{"ListNodes", func() error { _, err := s.ListNodes(ctx); return err }},
		{"RemoveNode", func() error { return s.RemoveNode(ctx, "n") }},
		{"Pause", func() error { return s.Pause(ctx, store.PauseParams{ScheduleID: "s", At: now}) }},
		{"ListPauses", func() error { _, err := s.ListPauses(ctx, store.ListPausesParams{Now: now}); return err }},
		{"Resume", func() error { return s.Resume(ctx, "s") }},
	}
	for _, st := range steps {
		if err := st.run(); err != nil {
			t.Fatalf("%s under another's write lock: %v", st.name, err)
		}
	}
}
