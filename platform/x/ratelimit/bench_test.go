package ratelimit

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/cluster/redistest"
)

// stepClock moves forward a fixed step at every reading, so a benchmark
// sees windows fill and drain without sleeping.
type stepClock struct {
	ns   atomic.Int64
	step time.Duration
}

func (c *stepClock) Now() time.Time { return time.Unix(0, c.ns.Add(int64(c.step))).UTC() }

func (c *stepClock) AfterFunc(time.Duration, func()) clock.Timer { panic("not used") }

// BenchmarkReserve reserves create_post under the current preset for 1,000
// accounts of 10 apps, each reading of the clock 10ms later, so that windows
// both grant and refuse and old requests are trimmed: in Memory, in Redis
// (one script per call, over the loopback), and in Shared over Redis.
func BenchmarkReserve(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		benchReserve(b, func(_ *testing.B, c clock.Clock) Limiter { return NewMemory(c) })
	})
	b.Run("redis", func(b *testing.B) {
		benchReserve(b, func(b *testing.B, c clock.Clock) Limiter {
			client, prefix := redistest.Open(b)
			return NewRedis(client, prefix+"rl:", c)
		})
	})
	b.Run("shared", func(b *testing.B) {
		benchReserve(b, func(b *testing.B, c clock.Clock) Limiter {
			client, prefix := redistest.Open(b)
			return NewShared(SharedOptions{Redis: NewRedis(client, prefix+"rl:", c), Clock: c})
		})
	})
}

func benchReserve(b *testing.B, newLimiter func(*testing.B, clock.Clock) Limiter) {
	windows, _ := Preset("current")
	subjects := make([]Subject, 1000)
	for i := range subjects {
		subjects[i] = Subject{Account: "acct" + itoa(i), App: "app" + itoa(i%10)}
	}
	ctx := context.Background()
	run := func(b *testing.B, parallel bool) {
		c := &stepClock{step: 10 * time.Millisecond}
		c.ns.Store(t0.UnixNano())
		m := newLimiter(b, c)
		b.ReportAllocs()
		if !parallel {
			for i := 0; b.Loop(); i++ {
				if _, err := m.Reserve(ctx, subjects[i%len(subjects)], EndpointCreatePost, windows); err != nil {
					b.Fatal(err)
				}
			}
			return
		}
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1)
				if _, err := m.Reserve(ctx, subjects[i%int64(len(subjects))], EndpointCreatePost, windows); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.Run("serial", func(b *testing.B) { run(b, false) })
	b.Run("parallel", func(b *testing.B) { run(b, true) })
}
