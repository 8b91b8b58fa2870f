package actors

import "github.com/herald-social/herald/schedules"

// StartingSchedules lists the enabled schedules of cfg that get a new actor
// when cfg replaces prev (nil at start): the only ones whose latest recorded
// fire Apply needs, for catch-up. Asking the store for every schedule would
// cost seconds per reload at a million schedules.
func StartingSchedules(prev, cfg *schedules.Config) []string {
	var ids []string
	for _, s := range cfg.Schedules {
		if !s.Enabled {
			continue
		}
		if prev != nil {
			if old := prev.Schedule(s.ID); old != nil && old.Enabled {
				continue
			}
		}
		ids = append(ids, s.ID)
	}
	return ids
}
