package fakex

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// MediaState is what the fake knows of an uploaded media, for tests.
type MediaState struct {
	ID, Key, OwnerID string
	Category         string // tweet_image, tweet_gif, tweet_video, ...
	Type             string // MIME type declared by the client
	TotalBytes       int64  // declared at initialize (the size, for one-shot uploads)
	Received         int64  // bytes appended so far
	// State is "uploading" before finalize, then "pending", "in_progress"
	// and "succeeded" or "failed", as X's processing_info.state.
	State     string
	CreatedAt time.Time
	ExpiresAt time.Time
	AltText   string
}

// Size limits per kind of media, as X publishes them.
const (
	maxImageBytes = 5 << 20
	maxGIFBytes   = 15 << 20
	maxVideoBytes = 512 << 20
)

type mediaKind int

const (
	kindImage mediaKind = iota
	kindGIF
	kindVideo
	kindSubtitles
)

func kindOf(category string) mediaKind {
	switch category {
	case "tweet_gif", "dm_gif":
		return kindGIF
	case "tweet_video", "dm_video", "amplify_video":
		return kindVideo
	case "subtitles":
		return kindSubtitles
	}
	return kindImage
}

// categoryFor is the category of an upload that names none: the fake
// infers it from the type (X's default is less forgiving).
func categoryFor(mediaType string) string {
	switch {
	case strings.HasPrefix(mediaType, "video/"):
		return "tweet_video"
	case mediaType == "image/gif":
		return "tweet_gif"
	case strings.HasPrefix(mediaType, "text/"):
		return "subtitles"
	}
	return "tweet_image"
}

func (k mediaKind) maxBytes() int64 {
	switch k {
	case kindGIF:
		return maxGIFBytes
	case kindVideo:
		return maxVideoBytes
	}
	return maxImageBytes
}

// processed reports whether X processes this kind asynchronously after
// finalize (GIF and video), so clients must poll STATUS.
func (k mediaKind) processed() bool { return k == kindGIF || k == kindVideo }

// media is one upload.
type media struct {
	id, mediaType, category string
	owners                  []string // the uploader first, then additional owners
	total                   int64
	segments                map[int]int64 // segment index -> bytes (a re-sent segment replaces)
	head                    []byte        // first bytes of segment 0, to recognise images
	created, expires        time.Time
	finalized               time.Time // zero until finalize
	fail                    bool      // processing ends in failure
	alt                     string
}

func (m *media) kind() mediaKind { return kindOf(m.category) }

// key is X's media key: a type prefix and the id.
func (m *media) key() string {
	switch m.category {
	case "tweet_gif", "dm_gif":
		return "16_" + m.id
	case "amplify_video":
		return "13_" + m.id
	case "tweet_video", "dm_video":
		return "7_" + m.id
	}
	return "3_" + m.id
}

func (m *media) received() int64 {
	var n int64
	for _, b := range m.segments {
		n += b
	}
	return n
}

func (m *media) ownedBy(userID string) bool { return slices.Contains(m.owners, userID) }

// processingInfo is X's processing_info.
type processingInfo struct {
	State           string      `json:"state"`
	CheckAfterSecs  int         `json:"check_after_secs,omitempty"`
	ProgressPercent int         `json:"progress_percent"`
	Error           *mediaError `json:"error,omitempty"`
}

type mediaError struct {
	Code    int    `json:"code"`
	Name    string `json:"name"`
	Message string `json:"message"`
}

// progress is where processing stands at now: each of pending and
// in_progress lasts step after finalize, then it succeeds (or fails).
func (m *media) progress(now time.Time, step time.Duration) processingInfo {
	if m.finalized.IsZero() {
		return processingInfo{State: "uploading"}
	}
	done := m.finalized
	if m.kind().processed() {
		done = m.finalized.Add(2 * step)
	}
	elapsed := now.Sub(m.finalized)
	switch {
	case !now.Before(done) && m.fail:
		return processingInfo{State: "failed", ProgressPercent: 100,
			Error: &mediaError{Code: 1, Name: "InvalidMedia", Message: "Unsupported video format"}}
	case !now.Before(done):
		return processingInfo{State: "succeeded", ProgressPercent: 100}
	case elapsed < step:
		return processingInfo{State: "pending", CheckAfterSecs: ceilSecs(step - elapsed)}
	}
	return processingInfo{State: "in_progress", CheckAfterSecs: ceilSecs(done.Sub(now)),
		ProgressPercent: int(100 * elapsed / (2 * step))}
}

func ceilSecs(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// Media returns the state of an upload.
func (s *Server) Media(id string) (MediaState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.media[id]
	if m == nil {
		return MediaState{}, false
	}
	return MediaState{ID: m.id, Key: m.key(), OwnerID: m.owners[0], Category: m.category, Type: m.mediaType,
		TotalBytes: m.total, Received: m.received(), State: m.progress(s.clock.Now(), s.processing).State,
		CreatedAt: m.created, ExpiresAt: m.expires, AltText: m.alt}, true
}

// FailMedia makes the processing of an upload end in failure (at once for
// media X does not process). It reports whether the media exists.
func (s *Server) FailMedia(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.media[id]
	if m != nil {
		m.fail = true
	}
	return m != nil
}

// attachable checks that the media can go on a post of userID: known,
// the user's, not expired, processed successfully, and a mix X allows (up
// to 4 images, or one GIF or video). It returns their alt texts. s.mu is
// held.
func (s *Server) attachable(userID string, ids []string, now time.Time) (map[string]string, problem, bool) {
	invalid := invalidRequest(requestError{Parameters: map[string][]string{"media.media_ids": ids}, Message: detailMediaInvalid})
	alts := map[string]string{}
	for _, id := range ids {
		m := s.media[id]
		if m == nil || !m.ownedBy(userID) || !now.Before(m.expires) || m.kind() == kindSubtitles ||
			m.progress(now, s.processing).State != "succeeded" {
			return nil, invalid, false
		}
		if m.kind() != kindImage && len(ids) > 1 {
			return nil, invalidRequest(requestError{Parameters: map[string][]string{"media.media_ids": ids},
				Message: "A post may carry up to 4 images, or 1 GIF, or 1 video."}), false
		}
		if m.alt != "" {
			alts[id] = m.alt
		}
	}
	if len(alts) == 0 {
		alts = nil
	}
	return alts, problem{}, true
}

// uploadJSON is X's MediaUploadResponse data.
type uploadJSON struct {
	ID               string          `json:"id"`
	MediaKey         string          `json:"media_key"`
	Size             int64           `json:"size,omitempty"`
	ExpiresAfterSecs int             `json:"expires_after_secs"`
	ProcessingInfo   *processingInfo `json:"processing_info,omitempty"`
}

// describe is the data of an upload answer. s.mu is held.
func (s *Server) describe(m *media, now time.Time, withProcessing bool) uploadJSON {
	u := uploadJSON{ID: m.id, MediaKey: m.key(), Size: m.total, ExpiresAfterSecs: max(int(m.expires.Sub(now)/time.Second), 0)}
	if withProcessing {
		pi := m.progress(now, s.processing)
		u.ProcessingInfo = &pi
	}
	return u
}

// newMedia registers an upload. s.mu is held.
func (s *Server) newMedia(c *call, mediaType, category string, total int64, owners []string) *media {
	m := &media{id: s.ids.next(c.now), mediaType: mediaType, category: category, total: total,
		owners: append([]string{c.user.ID}, owners...), segments: map[int]int64{}, created: c.now, expires: c.now.Add(s.mediaTTL)}
	s.media[m.id] = m
	return m
}

// usableMedia finds an upload the caller may act on, or answers the
// problem X sends for an unknown one. s.mu is held.
func (s *Server) usableMedia(id string, c *call) (*media, problem, bool) {
	if !idPattern.MatchString(id) {
		return nil, invalidParam("id", id, "The `id` query parameter value ["+id+"] does not match ^[0-9]{1,19}$"), false
	}
	m := s.media[id]
	if m == nil || !m.ownedBy(c.user.ID) || !c.now.Before(m.expires) {
		return nil, invalidParam("id", id, "The media id is invalid or has expired."), false
	}
	return m, problem{}, true
}

func sizeProblem(limit int64) problem {
	return invalidRequest(requestError{Parameters: map[string][]string{"total_bytes": {}},
		Message: "File size exceeds " + strconv.FormatInt(limit, 10) + " bytes."})
}

const msgSegments = "Segments do not add up to provided total file size."
