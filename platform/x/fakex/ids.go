package fakex

import (
	"strconv"
	"time"
)

// xEpoch is the instant X's snowflake ids count milliseconds from.
var xEpoch = time.UnixMilli(1288834974657)

// idGen issues ids the way X's snowflakes are built: milliseconds since
// X's epoch in the high bits and a sequence in the low 22. Ids therefore
// grow with time, as since_id and the newest-first order of a timeline
// expect, and stay unique when the fake clock stands still.
type idGen struct{ last uint64 }

func (g *idGen) next(now time.Time) string {
	ms := now.Sub(xEpoch).Milliseconds()
	if ms < 0 {
		ms = 0
	}
	id := uint64(ms) << 22
	if id <= g.last {
		id = g.last + 1
	}
	g.last = id
	return strconv.FormatUint(id, 10)
}

// idNum is the value of a numeric id, 0 for one that is not.
func idNum(id string) uint64 {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return 0
	}
	return n
}
