package fakex

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// headSize is how much of a file the fake keeps to recognise its type.
const headSize = 512

// payload is the media carried by an upload or append request.
type payload struct {
	fields map[string]string // the other form fields
	size   int64
	head   []byte
}

// readPayload reads a multipart/form-data body (the "media" part binary)
// or a JSON body (the "media" member base64), counting the media bytes
// without keeping them. It stops reading past limit bytes, and then
// reports a size of limit+1. For JSON, s is the body's schema.
func readPayload(r *http.Request, limit int64, s *schema) (payload, problem, bool) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "multipart/form-data":
		return readMultipart(r, limit)
	case "application/json":
		var body map[string]any
		if p, ok := decodeBody(r.Body, s, &body); !ok {
			return payload{}, p, false
		}
		pl := payload{fields: map[string]string{}}
		for k, v := range body {
			if k != "media" {
				pl.fields[k] = strings.Trim(rawJSON(v), `"`)
			}
		}
		raw, _ := body["media"].(string)
		data, err := base64.StdEncoding.DecodeString(raw)
		if err != nil {
			return payload{}, invalidParam("media", "", "The `media` value is not valid base64."), false
		}
		pl.size = int64(len(data))
		pl.head = data[:min(len(data), headSize)]
		return pl, problem{}, true
	}
	return payload{}, invalidRequest(requestError{Message: "Content-Type must be multipart/form-data or application/json."}), false
}

func readMultipart(r *http.Request, limit int64) (payload, problem, bool) {
	mr, err := r.MultipartReader()
	if err != nil {
		return payload{}, invalidRequest(requestError{Message: "The multipart body could not be read."}), false
	}
	pl := payload{fields: map[string]string{}}
	sawMedia := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return payload{}, invalidRequest(requestError{Message: "The multipart body could not be read."}), false
		}
		name := part.FormName()
		if name != "media" {
			b, _ := io.ReadAll(io.LimitReader(part, 4096))
			pl.fields[name] = string(b)
			continue
		}
		sawMedia = true
		var head bytes.Buffer
		n, err := io.Copy(io.Discard, io.TeeReader(io.LimitReader(part, limit+1), &headWriter{buf: &head}))
		if err != nil {
			return payload{}, invalidRequest(requestError{Message: "The media part could not be read."}), false
		}
		pl.size, pl.head = n, head.Bytes()
		if n > limit {
			return pl, problem{}, true
		}
	}
	if !sawMedia {
		return payload{}, invalidParam("media", "", "$.media: is missing but it is required"), false
	}
	return pl, problem{}, true
}

// headWriter keeps the first headSize bytes written to it.
type headWriter struct{ buf *bytes.Buffer }

func (h *headWriter) Write(b []byte) (int, error) {
	if room := headSize - h.buf.Len(); room > 0 {
		h.buf.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}

// isImage reports whether the first bytes of a file are those of an image
// type X takes.
func isImage(head []byte) bool {
	return strings.HasPrefix(http.DetectContentType(head), "image/")
}

// oneShotSchema is MediaUploadRequestOneShot, for JSON bodies.
var oneShotSchema = &schema{kind: "object", required: []string{"media", "media_category"}, props: map[string]*schema{
	"additional_owners": {kind: "array", items: idSchema},
	"media":             {kind: "string"},
	"media_category":    {kind: "string", enum: []string{"tweet_image", "dm_image", "subtitles"}},
	"media_type":        {kind: "string", enum: []string{"text/srt", "text/vtt", "image/jpeg", "image/bmp", "image/png", "image/webp", "image/pjpeg", "image/tiff"}},
	"shared":            {kind: "boolean"},
}}

// appendSchema is the JSON form of an append.
var appendSchema = &schema{kind: "object", required: []string{"media", "segment_index"}, props: map[string]*schema{
	"media":         {kind: "string"},
	"segment_index": {},
}}

// uploadOneShot is POST /2/media/upload: an image in one request.
func (s *Server) uploadOneShot(w http.ResponseWriter, r *http.Request, c *call) {
	if p, ok := checkQuery(r.URL.Query()); !ok {
		writeProblem(w, p)
		return
	}
	pl, p, ok := readPayload(r, maxImageBytes, oneShotSchema)
	if !ok {
		writeProblem(w, p)
		return
	}
	category := pl.fields["media_category"]
	if errs := oneShotSchema.props["media_category"].validate("$.media_category", category); category == "" || len(errs) > 0 {
		if category == "" {
			errs = []requestError{{Parameters: map[string][]string{"$.media_category": {}}, Message: "$.media_category: is missing but it is required"}}
		}
		writeProblem(w, invalidRequest(errs...))
		return
	}
	switch {
	case pl.size > maxImageBytes:
		writeProblem(w, sizeProblem(maxImageBytes))
		return
	case category != "subtitles" && !isImage(pl.head):
		writeProblem(w, invalidParam("media", "", "media type unrecognized."))
		return
	}
	s.mu.Lock()
	m := s.newMedia(c, pl.fields["media_type"], category, pl.size, splitIDs(pl.fields["additional_owners"]))
	m.segments[0], m.head, m.finalized = pl.size, pl.head, c.now
	data := s.describe(m, c.now, false)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

func splitIDs(s string) []string {
	s = strings.Trim(s, "[]")
	var out []string
	for _, id := range strings.Split(s, ",") {
		if id = strings.Trim(strings.TrimSpace(id), `"`); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// initRequest is the body of POST /2/media/upload/initialize.
type initRequest struct {
	MediaType        string   `json:"media_type"`
	TotalBytes       int64    `json:"total_bytes"`
	MediaCategory    string   `json:"media_category"`
	AdditionalOwners []string `json:"additional_owners"`
}

// mediaInit is POST /2/media/upload/initialize: it opens a chunked upload.
func (s *Server) mediaInit(w http.ResponseWriter, r *http.Request, c *call) {
	var req initRequest
	if p, ok := decodeBody(r.Body, initializeSchema, &req); !ok {
		writeProblem(w, p)
		return
	}
	if req.MediaCategory == "" {
		req.MediaCategory = categoryFor(req.MediaType)
	}
	if limit := kindOf(req.MediaCategory).maxBytes(); req.TotalBytes > limit {
		writeProblem(w, sizeProblem(limit))
		return
	}
	s.mu.Lock()
	m := s.newMedia(c, req.MediaType, req.MediaCategory, req.TotalBytes, req.AdditionalOwners)
	data := s.describe(m, c.now, false)
	data.Size = 0
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

// mediaAppend is POST /2/media/upload/:id/append: one segment.
func (s *Server) mediaAppend(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	m, p, ok := s.usableMedia(r.PathValue("id"), c)
	if ok && !m.finalized.IsZero() {
		p, ok = invalidParam("id", m.id, "The upload has already been finalized."), false
	}
	s.mu.Unlock()
	if !ok {
		writeProblem(w, p)
		return
	}
	// No segment can be larger than the whole file; whether this one fits
	// beside the others is checked once its index is known.
	pl, p, ok := readPayload(r, m.total, appendSchema)
	if !ok {
		writeProblem(w, p)
		return
	}
	idx, err := strconv.Atoi(strings.TrimSpace(pl.fields["segment_index"]))
	if err != nil || idx < 0 || idx > 999 {
		v := pl.fields["segment_index"]
		writeProblem(w, invalidParam("segment_index", v, "The `segment_index` value ["+v+"] is not an integer between 0 and 999"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.received()-m.segments[idx]+pl.size > m.total {
		writeProblem(w, invalidParam("segment_index", strconv.Itoa(idx), msgSegments))
		return
	}
	m.segments[idx] = pl.size
	if idx == 0 {
		m.head = pl.head
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]int64{"expires_at": m.expires.Unix()}})
}

// mediaFinalize is POST /2/media/upload/:id/finalize: the upload is
// complete; GIF and video then process for a while. Finalizing again
// answers the current status.
func (s *Server) mediaFinalize(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, p, ok := s.usableMedia(r.PathValue("id"), c)
	if !ok {
		writeProblem(w, p)
		return
	}
	if m.finalized.IsZero() {
		if m.received() != m.total {
			writeProblem(w, invalidParam("id", m.id, msgSegments))
			return
		}
		if m.kind() == kindImage && !isImage(m.head) {
			writeProblem(w, invalidParam("id", m.id, "media type unrecognized."))
			return
		}
		m.finalized = c.now
		m.fail = m.fail || c.failProcessing
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": s.describe(m, c.now, m.kind().processed())})
}

// mediaStatus is GET /2/media/upload?command=STATUS&media_id=...
func (s *Server) mediaStatus(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	if p, ok := checkQuery(q, "media_id", "command"); !ok {
		writeProblem(w, p)
		return
	}
	if cmd := q.Get("command"); cmd != "" && cmd != "STATUS" {
		writeProblem(w, invalidParam("command", cmd, "The `command` query parameter value ["+cmd+"] is not one of [STATUS]"))
		return
	}
	id := q.Get("media_id")
	if id == "" {
		writeProblem(w, invalidParam("media_id", "", "The `media_id` query parameter can not be empty"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, p, ok := s.usableMedia(id, c)
	if !ok {
		writeProblem(w, p)
		return
	}
	if m.finalized.IsZero() {
		writeProblem(w, invalidParam("media_id", id, "The upload has not been finalized."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": s.describe(m, c.now, true)})
}

// metadataRequest is the body of POST /2/media/metadata.
type metadataRequest struct {
	ID       string `json:"id"`
	Metadata struct {
		AltText *struct {
			Text string `json:"text"`
		} `json:"alt_text"`
	} `json:"metadata"`
}

// mediaMetadata is POST /2/media/metadata: alt text (the only metadata
// the fake keeps).
func (s *Server) mediaMetadata(w http.ResponseWriter, r *http.Request, c *call) {
	var req metadataRequest
	if p, ok := decodeBody(r.Body, metadataSchema, &req); !ok {
		writeProblem(w, p)
		return
	}
	s.mu.Lock()
	m, p, ok := s.usableMedia(req.ID, c)
	if ok && req.Metadata.AltText != nil {
		m.alt = req.Metadata.AltText.Text
	}
	s.mu.Unlock()
	if !ok {
		writeProblem(w, p)
		return
	}
	meta := map[string]any{}
	if req.Metadata.AltText != nil {
		meta["alt_text"] = map[string]string{"text": req.Metadata.AltText.Text}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"id": m.id, "associated_metadata": meta}})
}
