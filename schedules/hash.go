package schedules

import (
	"crypto/sha256"
	"encoding/hex"
)

// scheduleHash is the spec hash reloads diff schedules by: the first 16 hex
// digits of a SHA-256 over every field that affects what the schedule does,
// each length-prefixed so that no two schedules encode alike. It covers the
// id, account, timing (kind, expression, zone, window, jitter, catch-up),
// deadline, max attempts, enabled, the post's texts, its media (path relative to the loaded folder,
// size, alt text) and the metrics stages. It leaves out where the schedule
// is written (file, line), so moving it changes nothing. The leading
// version tag changes whenever this encoding does.
func scheduleHash(s *Schedule, media []mediaHash, buf []byte) (string, []byte) {
	e := encoder{buf: buf[:0]}
	e.str("herald.schedule.v2")
	e.str(s.ID)
	e.str(s.Account)
	e.int(int64(s.Kind))
	e.str(s.Expr)
	e.str(s.Timezone)
	e.civil(s.Start)
	e.civil(s.End)
	e.int(int64(s.Jitter))
	e.int(int64(s.Catchup))
	e.int(int64(s.Deadline))
	e.int(int64(s.MaxAttempts))
	e.bool(s.Enabled)
	e.str(s.Post.Text)
	e.int(int64(len(s.Post.Thread)))
	for _, t := range s.Post.Thread {
		e.str(t)
	}
	e.int(int64(len(media)))
	for i, m := range media {
		e.str(m.rel)
		e.int(m.size)
		e.str(s.Post.Media[i].Alt)
	}
	e.int(int64(len(s.Metrics)))
	for _, d := range s.Metrics {
		e.int(int64(d))
	}
	sum := sha256.Sum256(e.buf)
	return hex.EncodeToString(sum[:8]), e.buf
}
