package actors

import (
	"time"

	"github.com/herald-social/herald/schedules"
)

// maxMissedRecorded bounds how many missed fires one schedule records when
// it starts after downtime: a per-second schedule down for a day would
// otherwise write 86,400 rows. Beyond it the rest are skipped unrecorded,
// and the start is logged as truncated.
const maxMissedRecorded = 1000

// startPlan is what a schedule does when its actor starts: publish at most
// one missed fire (the most recent, if still within catch-up), record the
// older missed fires as missed, and arm its timer for the first fire after
// ResumeAfter.
type startPlan struct {
	CatchUp     *schedules.Fire
	Missed      []schedules.Fire
	Truncated   bool // more fires were missed than maxMissedRecorded
	ResumeAfter time.Time
}

// planStart decides a schedule's start. last is the planned instant of its
// latest recorded fire (zero when it has none). A recurring schedule with no
// history starts fresh from now: nothing was missed that it knew of. A
// one-shot schedule's only fire counts whatever its age, so a launch post
// whose time passed while Herald was down is published within catch-up or
// recorded as missed, once (once recorded, last is set and it never fires
// again). A fire is due when its jittered instant At is not after now; it
// may still be published while now - At <= catchup.
func planStart(next func(time.Time) (schedules.Fire, bool), oneShot bool, last, now time.Time, catchup time.Duration) startPlan {
	if last.IsZero() && !oneShot {
		return startPlan{ResumeAfter: now}
	}
	plan := startPlan{ResumeAfter: last}
	var due []schedules.Fire
	for t := last; ; {
		f, ok := next(t)
		if !ok || f.At.After(now) {
			break
		}
		if len(due) == maxMissedRecorded+1 {
			// Too many to walk one by one: jump to the catch-up window,
			// whose newest due fire is the only one that may still be
			// published; the fires in between are skipped unrecorded.
			plan.Truncated = true
			jump := now.Add(-catchup).Add(-time.Nanosecond)
			if jump.After(f.Planned) {
				if f, ok = next(jump); !ok || f.At.After(now) {
					break
				}
			}
		}
		due = append(due, f)
		t = f.Planned
	}
	if len(due) == 0 {
		return plan
	}
	plan.ResumeAfter = due[len(due)-1].Planned
	if newest := due[len(due)-1]; now.Sub(newest.At) <= catchup {
		plan.CatchUp = &newest
		due = due[:len(due)-1]
	}
	if len(due) > maxMissedRecorded {
		plan.Truncated = true
		due = due[:maxMissedRecorded]
	}
	plan.Missed = due
	return plan
}
