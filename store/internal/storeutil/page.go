package storeutil

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/herald-social/herald/store"
)

// Cursor is the position of a ListJobs page: the last (planned_at, id) seen.
type Cursor struct {
	PlannedAt int64
	ID        int64
}

// pageVersion prefixes tokens so a later format can refuse old ones cleanly.
const pageVersion = "j1"

// EncodePage makes an opaque page token.
func EncodePage(c Cursor) string {
	raw := pageVersion + ":" + strconv.FormatInt(c.PlannedAt, 10) + ":" + strconv.FormatInt(c.ID, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodePage reads a token from EncodePage; "" is the first page (ok false).
func DecodePage(token string) (c Cursor, ok bool, err error) {
	if token == "" {
		return c, false, nil
	}
	bad := fmt.Errorf("malformed page token %q: %w", token, store.ErrInvalid)
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return c, false, bad
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || parts[0] != pageVersion {
		return c, false, bad
	}
	if c.PlannedAt, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
		return c, false, bad
	}
	if c.ID, err = strconv.ParseInt(parts[2], 10, 64); err != nil {
		return c, false, bad
	}
	return c, true, nil
}

// ListJobs is validated store.ListJobsParams.
type ListJobs struct {
	store.ListJobsParams
	From, To       int64 // planned_at bounds; valid when HasFrom / HasTo
	HasFrom, HasTo bool
	After          Cursor
	HasAfter       bool
	Statuses       []string
}

// CheckListJobs validates p and settles its page size.
func CheckListJobs(p store.ListJobsParams) (l ListJobs, err error) {
	l.ListJobsParams = p
	l.Limit = Limit(p.Limit, DefaultPage, MaxPage)
	for _, s := range p.Statuses {
		if !s.Valid() {
			return l, fmt.Errorf("list jobs: unknown status %q: %w", s, store.ErrInvalid)
		}
		l.Statuses = append(l.Statuses, string(s))
	}
	if l.From, l.HasFrom, err = OptNanos("PlannedFrom", p.PlannedFrom); err != nil {
		return l, fmt.Errorf("list jobs: %w", err)
	}
	if l.To, l.HasTo, err = OptNanos("PlannedTo", p.PlannedTo); err != nil {
		return l, fmt.Errorf("list jobs: %w", err)
	}
	if l.After, l.HasAfter, err = DecodePage(p.PageToken); err != nil {
		return l, fmt.Errorf("list jobs: %w", err)
	}
	return l, nil
}

// NextPage returns the token after a page of n jobs whose last is last, or ""
// when the page is not full (so there is nothing after it).
func NextPage(n, limit int, last store.Job) string {
	if n < limit {
		return ""
	}
	return EncodePage(Cursor{PlannedAt: last.PlannedAt.UnixNano(), ID: last.ID})
}
