package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/herald-social/herald/cluster"
	"github.com/herald-social/herald/cluster/redistest"
)

func TestRefreshLockExcludesUntilReleased(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Open(t)
	ctx := context.Background()
	l := cluster.NewRefreshLock(c, prefix+"token:", time.Minute)
	unlock, ok, err := l.TryLock(ctx, "brand")
	if err != nil || !ok {
		t.Fatalf("first TryLock: ok %v, %v", ok, err)
	}
	if ttl := c.PTTL(ctx, prefix+"token:brand").Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("the lock's TTL is %s, want at most a minute", ttl)
	}
	if _, ok, err := l.TryLock(ctx, "brand"); err != nil || ok {
		t.Fatalf("TryLock while held: ok %v, %v; want not ok", ok, err)
	}
	if _, ok, err := l.TryLock(ctx, "other"); err != nil || !ok {
		t.Fatalf("another account's lock: ok %v, %v", ok, err)
	}
	unlock()
	unlock() // twice is safe
	if _, ok, err := l.TryLock(ctx, "brand"); err != nil || !ok {
		t.Fatalf("TryLock after unlock: ok %v, %v", ok, err)
	}
}

// A holder whose lock expired and was taken by another does not release
// the other's: the release compares the token.
func TestRefreshLockReleasesOnlyItsOwn(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Open(t)
	ctx := context.Background()
	l := cluster.NewRefreshLock(c, prefix, 0)
	unlock, ok, err := l.TryLock(ctx, "brand")
	if err != nil || !ok {
		t.Fatalf("TryLock: ok %v, %v", ok, err)
	}
	if ttl := c.PTTL(ctx, prefix+"brand").Val(); ttl <= time.Minute/2 || ttl > cluster.DefaultRefreshLockTTL {
		t.Errorf("default TTL %s, want %s", ttl, cluster.DefaultRefreshLockTTL)
	}
	// The lock expires and another process takes it.
	if err := c.Set(ctx, prefix+"brand", "another-holder", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	unlock()
	if got := c.Get(ctx, prefix+"brand").Val(); got != "another-holder" {
		t.Errorf("after a stale unlock the key holds %q, want the other holder's", got)
	}
}

// A Redis that does not answer is an error, not a lock taken or refused.
func TestRefreshLockRedisDown(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	unlock, ok, err := cluster.NewRefreshLock(c, "herald:token:", 0).TryLock(context.Background(), "brand")
	if err == nil || ok || unlock != nil {
		t.Fatalf("TryLock against no Redis: ok %v, unlock %v, err %v; want an error", ok, unlock != nil, err)
	}
}
