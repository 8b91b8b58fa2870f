package actors

import (
	"context"
	"time"

	"github.com/herald-social/herald/clock"
)

// sleep waits d on c, reporting false if ctx ended first.
func sleep(ctx context.Context, c clock.Clock, d time.Duration) bool {
	return sleepOrWake(ctx, c, d, nil)
}

// sleepOrWake waits d on c or until wake receives (a nil wake never
// does), reporting false if ctx ended first.
func sleepOrWake(ctx context.Context, c clock.Clock, d time.Duration, wake <-chan struct{}) bool {
	done := make(chan struct{})
	t := c.AfterFunc(d, func() { close(done) })
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-wake:
		return true
	case <-ctx.Done():
		return false
	}
}
