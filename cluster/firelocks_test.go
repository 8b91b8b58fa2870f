package cluster_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/herald-social/herald/cluster"
	"github.com/herald-social/herald/cluster/redistest"
)

// Two nodes race for the same fires: each fire has one winner, the loser
// sees it written only once the winner marks it, and the keys expire.
func TestFireLocks(t *testing.T) {
	client, prefix := redistest.Open(t)
	ctx := context.Background()
	a := cluster.NewFireLocks(client, prefix, "node-a", time.Minute)
	b := cluster.NewFireLocks(client, prefix, "node-b", time.Minute)
	fires := []string{"s1:1", "s2:1", "s3:1"}

	won, err := a.Acquire(ctx, fires[:2])
	if err != nil || !slices.Equal(won, []bool{true, true}) {
		t.Fatalf("a.Acquire = %v, %v; want both won", won, err)
	}
	won, err = b.Acquire(ctx, fires)
	if err != nil || !slices.Equal(won, []bool{false, false, true}) {
		t.Fatalf("b.Acquire = %v, %v; want s3 only", won, err)
	}
	if v := client.Get(ctx, prefix+"fire:s1:1").Val(); v != "node-a" {
		t.Fatalf("lock value %q, want the winner's node", v)
	}
	if ttl := client.PTTL(ctx, prefix+"fire:s1:1").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("lock TTL %s, want within a minute", ttl)
	}

	written, err := b.Written(ctx, fires)
	if err != nil || !slices.Equal(written, []bool{false, false, false}) {
		t.Fatalf("Written before any mark = %v, %v", written, err)
	}
	if err := a.MarkWritten(ctx, fires[:1]); err != nil {
		t.Fatal(err)
	}
	written, err = b.Written(ctx, append(fires, "never:1"))
	if err != nil || !slices.Equal(written, []bool{true, false, false, false}) {
		t.Fatalf("Written after a's mark of s1 = %v, %v", written, err)
	}
	// The mark keeps the lock's expiry, and creates nothing.
	if ttl := client.PTTL(ctx, prefix+"fire:s1:1").Val(); ttl <= 0 {
		t.Fatalf("marked lock TTL %s, want it kept", ttl)
	}
	if err := a.MarkWritten(ctx, []string{"absent:1"}); err != nil {
		t.Fatal(err)
	}
	if n := client.Exists(ctx, prefix+"fire:absent:1").Val(); n != 0 {
		t.Fatal("MarkWritten created a lock that did not exist")
	}
	// Nothing to do costs nothing.
	if won, err := a.Acquire(ctx, nil); err != nil || len(won) != 0 {
		t.Fatalf("Acquire(nil) = %v, %v", won, err)
	}
}

// A Redis that does not answer is an error, quickly: the caller writes
// the fires itself.
func TestFireLocksUnreachable(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer client.Close()
	l := cluster.NewFireLocks(client, "x:", "n", 0)
	ctx := context.Background()
	if _, err := l.Acquire(ctx, []string{"s:1"}); err == nil {
		t.Fatal("Acquire against a closed port: no error")
	}
	if _, err := l.Written(ctx, []string{"s:1"}); err == nil {
		t.Fatal("Written against a closed port: no error")
	}
	if err := l.MarkWritten(ctx, []string{"s:1"}); err == nil {
		t.Fatal("MarkWritten against a closed port: no error")
	}
}
