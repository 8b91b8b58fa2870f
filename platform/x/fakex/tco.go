package fakex

import (
	"hash/fnv"
	"unicode/utf8"
)

// mediaLink is the t.co link X appends to the text of a post with media,
// and what entities.urls says of it.
type mediaLink struct {
	url      string // https://t.co/ and 10 characters: 23 in all
	expanded string // the post's first photo or video page
	display  string // pic.x.com/ and the same 10 characters
	start    int    // in code points of the stored text, as X counts
	keys     []string
}

// tcoCodeLen is the length of a t.co code; with "https://t.co/" the link
// is 23 characters, what X counts for any URL.
const tcoCodeLen = 10

// newMediaLink builds the link of p, whose id and media are set, for the
// authored text. The code is derived from the post id, so it is the same
// at every run. s.mu is held.
func (s *Server) newMediaLink(p *post, authored string) *mediaLink {
	h := fnv.New64a()
	h.Write([]byte("t.co/" + p.ID))
	n := h.Sum64()
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	code := make([]byte, tcoCodeLen)
	for i := range code {
		code[i] = digits[n%62]
		n /= 62
	}
	page := "photo"
	l := &mediaLink{url: "https://t.co/" + string(code), display: "pic.x.com/" + string(code)}
	for _, id := range p.MediaIDs {
		if m := s.media[id]; m != nil {
			l.keys = append(l.keys, m.key())
			if m.kind() == kindVideo {
				page = "video"
			}
		}
	}
	l.expanded = "https://x.com/" + p.Username + "/status/" + p.ID + "/" + page + "/1"
	if authored != "" {
		l.start = utf8.RuneCountInString(authored) + 1
	}
	return l
}

// appendTo is the text X stores for the authored text: the link after a
// space, or the link alone.
func (l *mediaLink) appendTo(authored string) string {
	if authored == "" {
		return l.url
	}
	return authored + " " + l.url
}

// urlEntity is a UrlEntity of X's document (EntityIndicesInclusiveExclusive
// and UrlFields), in the members the fake fills.
type urlEntity struct {
	Start       int    `json:"start"`
	End         int    `json:"end"`
	URL         string `json:"url"`
	ExpandedURL string `json:"expanded_url"`
	DisplayURL  string `json:"display_url"`
	MediaKey    string `json:"media_key,omitempty"`
}

// entities is FullTextEntities; the fake fills only the urls of media
// links.
type entities struct {
	URLs []urlEntity `json:"urls,omitempty"`
}

// entities returns entities.urls for the link: one entry per media, each
// with the same span and expanded_url (that of the first photo), as X
// answers for a post with several images.
func (l *mediaLink) entities() *entities {
	e := &entities{}
	end := l.start + utf8.RuneCountInString(l.url)
	for _, key := range l.keys {
		e.URLs = append(e.URLs, urlEntity{Start: l.start, End: end, URL: l.url, ExpandedURL: l.expanded, DisplayURL: l.display, MediaKey: key})
	}
	if len(e.URLs) == 0 {
		e.URLs = []urlEntity{{Start: l.start, End: end, URL: l.url, ExpandedURL: l.expanded, DisplayURL: l.display}}
	}
	return e
}
