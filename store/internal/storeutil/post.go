package storeutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/herald-social/herald/store"
)

// A frozen post is stored as the JSON of store.FrozenPost (encoding/json,
// its struct tags, times in UTC to the nanosecond), in a column of its own:
// NULL while the job has none. Both drivers store the text this package
// encodes and decode it here, so a post reads back the same from either.

// CheckPost validates a post to freeze: at least one text, every media named
// by a Path, and every string valid UTF-8 without NUL (what a Postgres jsonb
// cannot hold, and what encoding/json would not give back as it was), times
// in the storable range. It returns the post in its stored form (see
// NormalPost) and its JSON.
func CheckPost(p *store.FrozenPost) (*store.FrozenPost, string, error) {
	if len(p.Texts) == 0 {
		return nil, "", fmt.Errorf("post: no text: %w", store.ErrInvalid)
	}
	if bad := badString(p.Account); bad != "" {
		return nil, "", fmt.Errorf("post: Account %s: %w", bad, store.ErrInvalid)
	}
	for i, t := range p.Texts {
		if bad := badString(t); bad != "" {
			return nil, "", fmt.Errorf("post: text %d %s: %w", i, bad, store.ErrInvalid)
		}
	}
	if err := checkMedia(p.Media); err != nil {
		return nil, "", fmt.Errorf("post: %w", err)
	}
	n := NormalPost(p)
	b, err := encodePost(n)
	if err != nil {
		return nil, "", fmt.Errorf("post: %w: %w", store.ErrInvalid, err)
	}
	return n, b, nil
}

// checkMedia validates media as CheckPost does.
func checkMedia(media []store.FrozenMedia) error {
	for i, m := range media {
		if m.Path == "" {
			return fmt.Errorf("media %d: Path is required: %w", i, store.ErrInvalid)
		}
		for _, f := range [...]struct{ name, v string }{{"Path", m.Path}, {"Alt", m.Alt}, {"Digest", m.Digest}, {"MediaID", m.MediaID}} {
			if bad := badString(f.v); bad != "" {
				return fmt.Errorf("media %d: %s %s: %w", i, f.name, bad, store.ErrInvalid)
			}
		}
		if m.Size < 0 {
			return fmt.Errorf("media %d: negative Size: %w", i, store.ErrInvalid)
		}
		if _, _, err := OptNanos("ExpiresAt", m.ExpiresAt); err != nil {
			return fmt.Errorf("media %d: %w", i, err)
		}
	}
	return nil
}

// badString says what is wrong with a string of a post, "" if nothing.
func badString(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "holds a NUL character"
	}
	return ""
}

// NormalPost returns a deep copy of p as it reads back from the store: times
// in UTC, no media as nil. Valid posts (CheckPost) only.
func NormalPost(p *store.FrozenPost) *store.FrozenPost {
	if p == nil {
		return nil
	}
	c := p.Clone()
	if len(c.Media) == 0 {
		c.Media = nil
	}
	for i := range c.Media {
		c.Media[i].ExpiresAt = c.Media[i].ExpiresAt.UTC()
	}
	return c
}

// encodePost is the stored JSON of a normalised post. HTML characters are
// kept as they are (json.Marshal would escape them), so the SQLite column
// reads as the text it holds.
func encodePost(p *store.FrozenPost) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// DecodePost reads a stored post; NULL (nil or empty) is no post.
func DecodePost(b []byte) (*store.FrozenPost, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var p store.FrozenPost
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("post: %w", err)
	}
	return NormalPost(&p), nil
}

// MediaUpdate is a validated store.RecordMediaParams.
type MediaUpdate struct {
	store.RecordMediaParams
	NowN int64
}

// CheckRecordMedia validates p without the job.
func CheckRecordMedia(p store.RecordMediaParams) (m MediaUpdate, err error) {
	m.RecordMediaParams = p
	if m.NowN, err = Nanos("Now", p.Now); err != nil {
		return m, err
	}
	if err := checkMedia(p.Media); err != nil {
		return m, err
	}
	return m, nil
}

// WithMedia returns the job's post with its media replaced by m.Media, and
// its JSON; ErrInvalid when the job has no post or the media do not name
// the same files (Path and Alt, in order).
func (m MediaUpdate) WithMedia(job store.Job) (*store.FrozenPost, string, error) {
	if job.Post == nil {
		return nil, "", fmt.Errorf("job %d has no frozen post: %w", job.ID, store.ErrInvalid)
	}
	same := slices.EqualFunc(job.Post.Media, m.Media, func(a, b store.FrozenMedia) bool {
		return a.Path == b.Path && a.Alt == b.Alt
	})
	if !same {
		return nil, "", fmt.Errorf("job %d: media %s are not the frozen post's %s: %w", job.ID, files(m.Media), files(job.Post.Media), store.ErrInvalid)
	}
	p := job.Post.Clone()
	p.Media = m.Media
	return CheckPost(p)
}

// files names media for an error message.
func files(media []store.FrozenMedia) string {
	names := make([]string, len(media))
	for i, m := range media {
		names[i] = fmt.Sprintf("%q", m.Path)
		if m.Alt != "" {
			names[i] += fmt.Sprintf(" (alt %q)", m.Alt)
		}
	}
	return "[" + strings.Join(names, ", ") + "]"
}

// UnknownClaim is a validated store.ClaimUnknownParams.
type UnknownClaim struct {
	store.ClaimUnknownParams
	NowN, UntilN int64
}

// CheckClaimUnknown validates p.
func CheckClaimUnknown(p store.ClaimUnknownParams) (c UnknownClaim, err error) {
	c.ClaimUnknownParams = p
	if p.Node == "" {
		return c, fmt.Errorf("claim unknown: Node is required: %w", store.ErrInvalid)
	}
	if c.NowN, err = Nanos("Now", p.Now); err != nil {
		return c, fmt.Errorf("claim unknown: %w", err)
	}
	if c.UntilN, err = Nanos("Until", p.Until); err != nil {
		return c, fmt.Errorf("claim unknown: %w", err)
	}
	if c.UntilN <= c.NowN {
		return c, fmt.Errorf("claim unknown: Until must be after Now: %w", store.ErrInvalid)
	}
	if p.Limit <= 0 {
		return c, fmt.Errorf("claim unknown: Limit must be positive: %w", store.ErrInvalid)
	}
	return c, nil
}

// RenderPost makes, with NewJob.Render, the post of a job created with run
// number run, in its stored form and JSON; nil and "" when the job brings
// its post, has no Render, or Render fails or makes a post the store cannot
// hold (the job is then frozen at its first claim, where that shows).
func RenderPost(nj store.NewJob, run int64) (*store.FrozenPost, string) {
	if nj.Post != nil || nj.Render == nil {
		return nil, ""
	}
	p, err := nj.Render(run)
	if err != nil || p == nil {
		return nil, ""
	}
	stored, js, err := CheckPost(p)
	if err != nil {
		return nil, ""
	}
	return stored, js
}
