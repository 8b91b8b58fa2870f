package x

import (
	"cmp"
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// The refresh lock (Options.RefreshLock) is taken before the refresh
// protocol reads the store, and released when the refresh returns: it is
// held across the refresh alone, never across a publish. A process that
// finds it taken waits for it (lockPoll, at most awaitMax) and then reads
// the store, where the holder's new pair is: it uses that pair without a
// request to X. Without the lock, the store's protocol alone serializes
// the refreshes (a marker and compare-and-swaps, then a wait for the
// marker's result): the lock only spares the store that polling, and the
// losers of a race their failed compare-and-swaps.

// lockPoll is how often a process retries a lock that another holds:
// real time, as the wait depends on that process's progress.
const lockPoll = 25 * time.Millisecond

// lockHealth remembers that the refresh lock's service failed, so that
// the warning is logged once per outage, not at every refresh; it is
// shared by the accounts of a Platform.
type lockHealth struct{ down atomic.Bool }

// lockRefresh takes the account's refresh lock, waiting while another
// process holds it, and returns its release. With no lock configured, or
// when the lock fails or stays taken past the wait, it returns a no-op:
// the refresh goes on with the store's protocol alone, which stays
// correct.
func (a *oauth2Auth) lockRefresh(ctx context.Context) func() {
	noop := func() {}
	if a.lock == nil {
		return noop
	}
	var deadline time.Time
	for {
		unlock, ok, err := a.lock.TryLock(ctx, a.account)
		switch {
		case err != nil:
			if a.lockHealth.down.CompareAndSwap(false, true) {
				a.logger.Warn("oauth2: the refresh lock does not answer: refreshing with the store's protocol alone (still safe) until it does",
					slog.String("account", a.account), slog.String("error", err.Error()))
			}
			return noop
		case ok:
			if a.lockHealth.down.CompareAndSwap(true, false) {
				a.logger.Info("oauth2: the refresh lock answers again", slog.String("account", a.account))
			}
			return unlock
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(cmp.Or(a.awaitMax, awaitMax))
		}
		if !time.Now().Before(deadline) {
			a.logger.Info("oauth2: another process kept the refresh lock for the whole wait: going on with the store's protocol",
				slog.String("account", a.account))
			return noop
		}
		if sleep(ctx, lockPoll) != nil {
			return noop // the refresh fails on ctx itself
		}
	}
}
