package store

import "time"

// FrozenPost is a job's post exactly as it will be published: rendered once,
// when the fire is recorded (or, for a job recorded without one, at its first
// claim), and never again. Retries, reconciliation and the rest of a thread
// use only this copy, so an edit of the YAML changes fires after the edit and
// never a job already recorded, and every attempt speaks of the same post.
type FrozenPost struct {
	// Account is the account the post goes out as, frozen with the text: a
	// schedule moved to another account does not move its jobs in flight.
	Account string `json:"account"`
	// Texts are the main post then each reply of the thread, rendered.
	Texts []string `json:"texts"`
	// Media are the files attached to the main post.
	Media []FrozenMedia `json:"media,omitempty"`
}

// FrozenMedia is one file of a frozen post. Path and Alt are frozen with the
// texts; Digest, Size, MediaID and ExpiresAt are recorded (RecordMedia) once
// the file has been uploaded, so that a retry reuses the upload while X still
// holds it, and refuses a file whose content changed since.
type FrozenMedia struct {
	Path string `json:"path"`
	Alt  string `json:"alt,omitempty"`
	// Root is the plan's folder Path must stay under (schedules.Media);
	// empty in posts frozen before Herald checked it.
	Root string `json:"root,omitempty"`
	// Digest is "sha256:" and the hex SHA-256 of the bytes uploaded; empty
	// until the first upload.
	Digest string `json:"digest,omitempty"`
	Size   int64  `json:"size,omitempty"`
	// MediaID is X's id of the upload, empty until uploaded.
	MediaID string `json:"media_id,omitempty"`
	// ExpiresAt is when X forgets MediaID (zero: X did not say).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Clone returns a deep copy of p (nil for nil).
func (p *FrozenPost) Clone() *FrozenPost {
	if p == nil {
		return nil
	}
	c := *p
	c.Texts = append([]string(nil), p.Texts...)
	c.Media = append([]FrozenMedia(nil), p.Media...)
	return &c
}
