package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultFireLockTTL is how long a fire's lock lives in Redis. Why five
// minutes: it must outlast the winner's write and the losers' check of it
// (seconds), and a node that restarts and catches up a fire within it finds
// the lock taken and does not write that fire again. It must also expire,
// for Redis's memory: at 100,000 schedules a minute, five minutes keep
// about 500,000 keys (some 50 MB). A fire caught up after the lock expired
// is written again, which the store's unique key makes a no-op.
const DefaultFireLockTTL = 5 * time.Minute

// fireLockTimeout bounds one round trip of the fire locks: Redis answers
// a burst's pipeline in milliseconds (10,000 keys: tens of them), and a
// caller that gets no answer writes the fires itself, so every moment
// waited longer is lateness added to the burst at X.
const fireLockTimeout = 250 * time.Millisecond

// doneValue marks a fire's lock once its winner's write committed.
const doneValue = "done"

// FireLocks lets one node of a cluster write each fire: the first node to
// SET a fire's key (NX) writes it, and marks the key done once its write
// committed; the others check that mark later. It implements
// actors.FireLocks: each method is one pipelined round trip, whatever the
// number of fires.
//
// The lock is a fast path: the store's unique key on (schedule, planned
// instant) is the guarantee, so a key Redis loses (a failover) makes two
// writers, never two jobs.
type FireLocks struct {
	client *redis.Client
	prefix string
	node   string
	ttl    time.Duration
}

// NewFireLocks returns the fire locks of node (the lock's value, which
// shows who won) under prefix (Config.RedisPrefix); ttl <= 0 means
// DefaultFireLockTTL.
func NewFireLocks(client *redis.Client, prefix, node string, ttl time.Duration) *FireLocks {
	if ttl <= 0 {
		ttl = DefaultFireLockTTL
	}
	return &FireLocks{client: client, prefix: prefix, node: node, ttl: ttl}
}

// key is the Redis key of a fire: prefix + "fire:" + the fire's name
// (schedule id and planned instant, as actors.FireName makes it).
func (l *FireLocks) key(fire string) string { return l.prefix + "fire:" + fire }

// Acquire takes the lock of each fire it can (SET key node NX PX ttl,
// pipelined) and reports which it won.
func (l *FireLocks) Acquire(ctx context.Context, fires []string) ([]bool, error) {
	if len(fires) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, fireLockTimeout)
	defer cancel()
	pipe := l.client.Pipeline()
	cmds := make([]*redis.BoolCmd, len(fires))
	for i, f := range fires {
		cmds[i] = pipe.SetNX(ctx, l.key(f), l.node, l.ttl)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("cluster: taking %d fire locks: %w", len(fires), err)
	}
	won := make([]bool, len(fires))
	for i, c := range cmds {
		won[i] = c.Val()
	}
	return won, nil
}

// MarkWritten marks the locks of fires done (SET key done XX KEEPTTL,
// pipelined): their writes committed. A lock that expired is left absent.
func (l *FireLocks) MarkWritten(ctx context.Context, fires []string) error {
	if len(fires) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, fireLockTimeout)
	defer cancel()
	pipe := l.client.Pipeline()
	for _, f := range fires {
		pipe.SetArgs(ctx, l.key(f), doneValue, redis.SetArgs{Mode: "XX", KeepTTL: true})
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("cluster: marking %d fires written: %w", len(fires), err)
	}
	return nil
}

// Written reports, for each fire, whether its lock is marked done (one
// MGET). A lock still held by a node that never marked it, or gone
// (expired, lost in a failover), reads as not written.
func (l *FireLocks) Written(ctx context.Context, fires []string) ([]bool, error) {
	if len(fires) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, fireLockTimeout)
	defer cancel()
	keys := make([]string, len(fires))
	for i, f := range fires {
		keys[i] = l.key(f)
	}
	vals, err := l.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("cluster: checking %d fires written: %w", len(fires), err)
	}
	done := make([]bool, len(fires))
	for i, v := range vals {
		s, _ := v.(string)
		done[i] = s == doneValue
	}
	return done, nil
}
