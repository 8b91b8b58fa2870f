package spec

import (
	"math/bits"
	"time"
)

// Jitter returns the deterministic delay in [0, max) added to the planned
// instant of a fire: the same schedule id and planned instant give the same
// delay on every node and every restart, so two schedulers agree on when a
// post goes out and a retry does not move it. It hashes the id and the
// planned instant (seconds and nanoseconds since the epoch, so the zone the
// time is expressed in does not matter) with FNV-1a 64, mixes the result
// (FNV's last input bytes barely reach the high bits) and scales it to
// [0, max) with a 128-bit multiply. No global random state is involved.
// A max <= 0 gives 0.
func Jitter(scheduleID string, planned time.Time, max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	const prime = 1099511628211
	h := uint64(14695981039346656037) // FNV-1a 64 offset basis
	for i := 0; i < len(scheduleID); i++ {
		h = (h ^ uint64(scheduleID[i])) * prime
	}
	h = (h ^ 0) * prime // separator: the id cannot run into the instant
	sec, nsec := uint64(planned.Unix()), uint64(planned.Nanosecond())
	for i := 56; i >= 0; i -= 8 {
		h = (h ^ (sec >> i & 0xff)) * prime
	}
	for i := 24; i >= 0; i -= 8 {
		h = (h ^ (nsec >> i & 0xff)) * prime
	}
	hi, _ := bits.Mul64(mix64(h), uint64(max))
	return time.Duration(hi)
}

// mix64 is the MurmurHash3 64-bit finaliser: every input bit affects every
// output bit, so nearby instants spread over the whole range.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
