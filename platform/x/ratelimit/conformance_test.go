package ratelimit_test

import (
	"testing"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform/x/ratelimit"
	"github.com/herald-social/herald/platform/x/ratelimit/limitertest"
)

func TestMemoryConformance(t *testing.T) {
	limitertest.Run(t, func(_ *testing.T, c clock.Clock) ratelimit.Limiter { return ratelimit.NewMemory(c) })
}
