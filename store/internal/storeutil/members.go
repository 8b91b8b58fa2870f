package storeutil

import (
	"fmt"

	"github.com/herald-social/herald/store"
)

// Heartbeat is a validated HeartbeatParams, instants encoded.
type Heartbeat struct {
	store.Node
	StartedN, NowN int64
	// ForgetN is 0 when nothing is forgotten.
	ForgetN int64
}

// CheckHeartbeat validates p.
func CheckHeartbeat(p store.HeartbeatParams) (h Heartbeat, err error) {
	h.Node = p.Node
	if p.Node.ID == "" {
		return h, fmt.Errorf("heartbeat: Node.ID is required: %w", store.ErrInvalid)
	}
	if h.NowN, err = Nanos("heartbeat: Now", p.Now); err != nil {
		return h, err
	}
	if h.StartedN, err = Nanos("heartbeat: Node.StartedAt", p.Node.StartedAt); err != nil {
		return h, err
	}
	if p.Node.InFlight < 0 {
		return h, fmt.Errorf("heartbeat: Node.InFlight %d is negative: %w", p.Node.InFlight, store.ErrInvalid)
	}
	if h.ForgetN, _, err = OptNanos("heartbeat: ForgetBefore", p.ForgetBefore); err != nil {
		return h, err
	}
	return h, nil
}

// PauseRow is a validated PauseParams; UntilN is nil for a pause without
// an end.
type PauseRow struct {
	store.PauseParams
	AtN    int64
	UntilN *int64
}

// CheckPause validates p.
func CheckPause(p store.PauseParams) (r PauseRow, err error) {
	r.PauseParams = p
	if p.ScheduleID == "" {
		return r, fmt.Errorf("pause: ScheduleID is required: %w", store.ErrInvalid)
	}
	if r.AtN, err = Nanos("pause: At", p.At); err != nil {
		return r, err
	}
	until, ok, err := OptNanos("pause: Until", p.Until)
	if err != nil {
		return r, err
	}
	if ok {
		if !p.Until.After(p.At) {
			return r, fmt.Errorf("pause: Until %s is not after At: %w", p.Until.UTC().Format("2006-01-02T15:04:05.999999999Z"), store.ErrInvalid)
		}
		r.UntilN = &until
	}
	return r, nil
}

// ScanPause builds a pause from its stored columns.
func ScanPause(id, note string, at int64, until *int64) store.Pause {
	return store.Pause{ScheduleID: id, Note: note, At: Time(at), Until: OptTime(until)}
}

// NodeColumns are the columns ScanNode reads, in its order.
const NodeColumns = `id, address, version, revision, started_at, last_seen, dry_run, redis_health, store_health, in_flight`

// ScanNode reads a row of NodeColumns with scan (a driver's Row.Scan).
func ScanNode(scan func(dest ...any) error) (store.Node, error) {
	var (
		n                 store.Node
		started, lastSeen int64
	)
	err := scan(&n.ID, &n.Address, &n.Version, &n.Revision, &started, &lastSeen, &n.DryRun, &n.RedisHealth,
		&n.StoreHealth, &n.InFlight)
	n.StartedAt, n.LastSeen = Time(started), Time(lastSeen)
	return n, err
}
