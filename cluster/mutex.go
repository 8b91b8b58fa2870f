package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// RefreshLock is a lock per account in front of its OAuth 2.0 token
// refresh (x.RefreshLock): X's refresh tokens are single-use, so of the
// nodes whose access token expires at once, one refreshes and the others
// wait and read its new pair from the store.
//
// It is `SET key token NX PX ttl` with a random token, released by a
// script that deletes the key only if it still holds that token (a
// holder whose lock expired cannot release another's). It is a fast path:
// the store's marker and compare-and-swap remain the guarantee, so a lock
// that expires while its holder still refreshes, or a Redis that fails,
// costs only waiting, never a spent token used twice.
type RefreshLock struct {
	c      *redis.Client
	prefix string
	ttl    time.Duration
}

// DefaultRefreshLockTTL is the lock's life when NewRefreshLock is given
// none: longer than a refresh, which is one request to X's token endpoint
// (at most the X client's timeout, 30s by default) and two store writes.
const DefaultRefreshLockTTL = 45 * time.Second

// redisOpTimeout bounds each Redis call of the lock.
const redisOpTimeout = time.Second

// releaseScript deletes the lock only if it still holds the caller's
// token.
var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// NewRefreshLock returns the refresh locks of c under prefix (the key of
// an account is prefix + account; the engine passes its --redis-prefix
// and "token:"). ttl must outlast a refresh, so that the lock is not lost
// mid-way (the X client's timeout plus a margin for the store); 0 means
// DefaultRefreshLockTTL. A lock whose holder died is free after ttl.
func NewRefreshLock(c *redis.Client, prefix string, ttl time.Duration) *RefreshLock {
	if ttl <= 0 {
		ttl = DefaultRefreshLockTTL
	}
	return &RefreshLock{c: c, prefix: prefix, ttl: ttl}
}

// TryLock takes the account's lock if it is free. ok is false when
// another holder has it; an error means Redis did not answer (within
// redisOpTimeout) and nothing was taken, as far as this process knows (a
// SET whose answer was lost expires after the TTL).
func (l *RefreshLock) TryLock(ctx context.Context, account string) (unlock func(), ok bool, err error) {
	token, err := randomToken()
	if err != nil {
		return nil, false, err
	}
	key := l.prefix + account
	cctx, cancel := context.WithTimeout(ctx, redisOpTimeout)
	defer cancel()
	ok, err = l.c.SetNX(cctx, key, token, l.ttl).Result()
	if err != nil {
		return nil, false, fmt.Errorf("redis: taking the refresh lock of %s: %w", account, err)
	}
	if !ok {
		return nil, false, nil
	}
	var once sync.Once
	return func() { once.Do(func() { l.release(ctx, key, token) }) }, true, nil
}

// release deletes the lock if it is still token's. A failure is left to
// the TTL: the next holder waits for it at worst.
func (l *RefreshLock) release(ctx context.Context, key, token string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisOpTimeout)
	defer cancel()
	_ = releaseScript.Run(cctx, l.c, []string{key}, token).Err()
}

func randomToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("refresh lock token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
