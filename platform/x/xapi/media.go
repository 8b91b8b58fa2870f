package xapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	// MaxChunkSize is the largest media append Herald sends. X documents
	// 5 MB per chunk, and clients report 413 answers from X's edge for
	// chunks near that size; 4 MiB leaves a margin.
	MaxChunkSize = 4 << 20
	// maxOneShotBytes is the largest image sent in a single request (X's
	// image limit is 5 MB); a larger image goes through the chunked
	// upload, where X itself judges its size.
	maxOneShotBytes = 5 << 20
	// maxSegments: segment_index runs from 0 to 999.
	maxSegments = 1000
	// noDeadlineProcessingWait bounds the STATUS polling on the Client's
	// clock only when the caller's context has no deadline, should X
	// never leave in_progress. With a deadline, the deadline alone
	// decides.
	noDeadlineProcessingWait = 30 * time.Minute
)

// Media categories (X's media_category) Herald uses.
const (
	CategoryImage = "tweet_image"
	CategoryGIF   = "tweet_gif"
	CategoryVideo = "tweet_video"
)

// MediaFile is a file to upload.
type MediaFile struct {
	// Name is the file's name, for the multipart filename and errors.
	Name string
	// Open opens the file; it is called once per UploadMedia.
	Open func() (io.ReadCloser, error)
	// Size is the file's size in bytes; the upload checks it.
	Size int64
	// MediaType is the MIME type: image/png, image/jpeg, image/webp,
	// image/gif, video/mp4...
	MediaType string
	// Category is tweet_image, tweet_gif or tweet_video; derived from
	// MediaType when empty.
	Category string
}

// Media is an uploaded file, ready to attach to a post.
type Media struct {
	ID string
	// ExpiresAt is when X forgets the upload (zero when X did not say):
	// a post must use the id before then.
	ExpiresAt time.Time
}

// oneShotTypes are the media_type values POST /2/media/upload accepts; for
// any other, the field is left out (X rejects values outside its enum).
var oneShotTypes = map[string]bool{
	"image/jpeg": true, "image/bmp": true, "image/png": true,
	"image/webp": true, "image/pjpeg": true, "image/tiff": true,
}

// UploadMedia uploads a file, close to publish time since media ids
// expire. Images of up to 5 MiB go in one multipart request (POST
// /2/media/upload); GIFs, videos and larger images go chunked (initialize,
// append in chunks of at most MaxChunkSize, finalize). Then, while X
// reports processing_info.state pending or in_progress, it polls STATUS,
// waiting check_after_secs on the Client's clock, until the state is
// succeeded (it returns the id) or failed (a ClassPermanent *Error with
// X's message).
//
// Its time budget is the caller's context: the upload and the polling go
// on until the context ends (a ClassTransient *Error wrapping its error),
// however long that is, while each HTTP request still gets its own
// Options.Timeout. Only a context without a deadline gets a bound of its
// own: 30 minutes of polling on the Client's clock.
func (c *Client) UploadMedia(ctx context.Context, m MediaFile) (Media, error) {
	category, err := mediaCategory(m)
	if err != nil {
		return Media{}, err
	}
	if m.Open == nil || m.Size <= 0 {
		return Media{}, invalid(EndpointMediaUpload, "%s: no file or size", m.Name)
	}
	f, err := m.Open()
	if err != nil {
		return Media{}, fileError(m, fmt.Errorf("opening: %w", err))
	}
	defer f.Close()
	var r mediaUploadResponse
	if category == CategoryImage && m.Size <= maxOneShotBytes {
		r, err = c.uploadOneShot(ctx, m, category, f)
	} else {
		r, err = c.uploadChunked(ctx, m, category, f)
	}
	if err != nil {
		return Media{}, err
	}
	return c.awaitProcessing(ctx, r)
}

// mediaCategory is m.Category, or the category its MediaType implies.
func mediaCategory(m MediaFile) (string, error) {
	switch m.Category {
	case CategoryImage, CategoryGIF, CategoryVideo:
		return m.Category, nil
	case "":
	default:
		return "", invalid(EndpointMediaUpload, "%s: unknown media category %q", m.Name, m.Category)
	}
	switch t := strings.ToLower(m.MediaType); {
	case t == "image/gif":
		return CategoryGIF, nil
	case strings.HasPrefix(t, "image/"):
		return CategoryImage, nil
	case strings.HasPrefix(t, "video/"):
		return CategoryVideo, nil
	}
	return "", invalid(EndpointMediaUpload, "%s: no media category for media type %q", m.Name, m.MediaType)
}

// mediaUploadResponse is X's MediaUploadResponse (upload, initialize,
// finalize and STATUS all answer with it).
type mediaUploadResponse struct {
	Data *struct {
		ID               string          `json:"id"`
		ExpiresAfterSecs int64           `json:"expires_after_secs"`
		ProcessingInfo   *processingInfo `json:"processing_info"`
	} `json:"data"`
	Errors []Problem `json:"errors"`
	// at is the Clock's time when the answer was read, from which
	// expires_after_secs counts.
	at time.Time
}

type processingInfo struct {
	State          string `json:"state"`
	CheckAfterSecs int64  `json:"check_after_secs"`
	// Error is not in X's v2 schema but is what X sends with a failed
	// state (as in v1.1): {"code":1,"name":"InvalidMedia","message":...}.
	Error *struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error"`
}

func (c *Client) uploadOneShot(ctx context.Context, m MediaFile, category string, f io.Reader) (mediaUploadResponse, error) {
	data, err := io.ReadAll(io.LimitReader(f, m.Size+1))
	if err != nil {
		return mediaUploadResponse{}, fileError(m, fmt.Errorf("reading: %w", err))
	}
	if int64(len(data)) != m.Size {
		return mediaUploadResponse{}, fileError(m, fmt.Errorf("size changed: want %d bytes, read %d", m.Size, len(data)))
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("media_category", category) // writes to a bytes.Buffer cannot fail
	if oneShotTypes[strings.ToLower(m.MediaType)] {
		_ = w.WriteField("media_type", strings.ToLower(m.MediaType))
	}
	part, _ := w.CreateFormFile("media", partName(m.Name))
	_, _ = part.Write(data)
	_ = w.Close()
	var r mediaUploadResponse
	err = c.do(ctx, call{endpoint: EndpointMediaUpload, method: http.MethodPost, path: "/2/media/upload",
		body: buf.Bytes(), contentType: w.FormDataContentType()}, &r)
	if err != nil {
		return r, err
	}
	r.at = c.clock.Now()
	return r, checkMediaID(r)
}

func (c *Client) uploadChunked(ctx context.Context, m MediaFile, category string, f io.Reader) (mediaUploadResponse, error) {
	chunk := int64(c.chunkSize)
	segments := (m.Size + chunk - 1) / chunk
	if segments > maxSegments {
		return mediaUploadResponse{}, invalid(EndpointMediaUpload, "%s: %d bytes need %d chunks, at most %d",
			m.Name, m.Size, segments, maxSegments)
	}
	initBody, err := json.Marshal(struct {
		MediaType     string `json:"media_type"`
		TotalBytes    int64  `json:"total_bytes"`
		MediaCategory string `json:"media_category"`
	}{strings.ToLower(m.MediaType), m.Size, category})
	if err != nil {
		return mediaUploadResponse{}, fmt.Errorf("xapi media_upload: encoding: %w", err)
	}
	var r mediaUploadResponse
	err = c.do(ctx, call{endpoint: EndpointMediaUpload, method: http.MethodPost, path: "/2/media/upload/initialize",
		body: initBody, contentType: "application/json"}, &r)
	if err != nil {
		return r, err
	}
	r.at = c.clock.Now()
	if err := checkMediaID(r); err != nil {
		return r, err
	}
	id := r.Data.ID
	buf := make([]byte, min(chunk, m.Size))
	for seg := int64(0); seg < segments; seg++ {
		n := min(chunk, m.Size-seg*chunk)
		if _, err := io.ReadFull(f, buf[:n]); err != nil {
			return r, fileError(m, fmt.Errorf("reading chunk %d: %w", seg, err))
		}
		if err := c.appendChunk(ctx, m, id, seg, buf[:n]); err != nil {
			return r, err
		}
	}
	if n, _ := f.Read(make([]byte, 1)); n > 0 {
		return r, fileError(m, fmt.Errorf("size changed: longer than %d bytes", m.Size))
	}
	var fin mediaUploadResponse
	err = c.do(ctx, call{endpoint: EndpointMediaUpload, method: http.MethodPost,
		path: "/2/media/upload/" + id + "/finalize"}, &fin)
	if err != nil {
		return fin, err
	}
	fin.at = c.clock.Now()
	if fin.Data == nil || fin.Data.ID == "" {
		// Finalize normally repeats the id; if it does not, keep ours,
		// with its expiry counted from when initialize answered.
		fin.Data, fin.at = r.Data, r.at
		fin.Data.ProcessingInfo = nil
	}
	return fin, nil
}

// appendChunk sends one segment as multipart segment_index and media.
func (c *Client) appendChunk(ctx context.Context, m MediaFile, id string, seg int64, data []byte) error {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("segment_index", strconv.FormatInt(seg, 10))
	part, _ := w.CreateFormFile("media", partName(m.Name))
	_, _ = part.Write(data)
	_ = w.Close()
	err := c.do(ctx, call{endpoint: EndpointMediaUpload, method: http.MethodPost,
		path: "/2/media/upload/" + id + "/append", body: buf.Bytes(), contentType: w.FormDataContentType()}, nil)
	if err != nil {
		return fmt.Errorf("append segment %d: %w", seg, err)
	}
	return nil
}

// awaitProcessing polls STATUS until X has processed the upload of r.
func (c *Client) awaitProcessing(ctx context.Context, r mediaUploadResponse) (Media, error) {
	id := r.Data.ID
	media := Media{ID: id}
	start := c.clock.Now()
	_, hasDeadline := ctx.Deadline()
	for {
		if r.Data != nil && r.Data.ExpiresAfterSecs > 0 {
			media.ExpiresAt = r.at.Add(time.Duration(r.Data.ExpiresAfterSecs) * time.Second)
		}
		var info *processingInfo
		if r.Data != nil {
			info = r.Data.ProcessingInfo
		}
		if info == nil || info.State == "succeeded" {
			return media, nil
		}
		if info.State == "failed" {
			e := &Error{Endpoint: EndpointMediaUpload, Status: http.StatusOK, Class: ClassPermanent,
				Title: "media processing failed", Problems: r.Errors}
			if info.Error != nil {
				e.Type, e.Detail = info.Error.Name, info.Error.Message
			}
			return Media{}, e
		}
		// pending, in_progress, or a state X may add: wait and ask again.
		wait := time.Duration(info.CheckAfterSecs) * time.Second
		if wait <= 0 {
			wait = time.Second
		}
		if !hasDeadline && c.clock.Now().Add(wait).Sub(start) > noDeadlineProcessingWait {
			return Media{}, &Error{Endpoint: EndpointMediaUpload, Class: ClassTransient,
				Detail: fmt.Sprintf("media %s still %s after %s (the context has no deadline)", id, info.State, noDeadlineProcessingWait)}
		}
		if err := c.sleep(ctx, wait); err != nil {
			return Media{}, &Error{Endpoint: EndpointMediaUpload, Class: ClassTransient,
				Err: fmt.Errorf("waiting for media processing: %w", err)}
		}
		r = mediaUploadResponse{}
		q := url.Values{"command": {"STATUS"}, "media_id": {id}}
		if err := c.do(ctx, call{endpoint: EndpointMediaUpload, method: http.MethodGet, path: "/2/media/upload", query: q}, &r); err != nil {
			return Media{}, err
		}
		r.at = c.clock.Now()
		if r.Data == nil {
			return Media{}, &Error{Endpoint: EndpointMediaUpload, Status: http.StatusOK, Class: ClassTransient,
				Problems: r.Errors, Detail: "STATUS answer without data"}
		}
	}
}

// SetAltText sets the alt text of an uploaded image or GIF
// (POST /2/media/metadata). X allows 1000 characters.
func (c *Client) SetAltText(ctx context.Context, mediaID, alt string) error {
	if !isID(mediaID) {
		return invalid(EndpointMediaMetadata, "media id %q is not numeric", mediaID)
	}
	type altText struct {
		Text string `json:"text"`
	}
	type metadata struct {
		AltText altText `json:"alt_text"`
	}
	body, err := json.Marshal(struct {
		ID       string   `json:"id"`
		Metadata metadata `json:"metadata"`
	}{mediaID, metadata{altText{alt}}})
	if err != nil {
		return fmt.Errorf("xapi media_metadata: encoding: %w", err)
	}
	return c.do(ctx, call{endpoint: EndpointMediaMetadata, method: http.MethodPost, path: "/2/media/metadata",
		body: body, contentType: "application/json"}, nil)
}

func checkMediaID(r mediaUploadResponse) error {
	if r.Data == nil || !isID(r.Data.ID) {
		return &Error{Endpoint: EndpointMediaUpload, Status: http.StatusOK, Class: ClassTransient,
			Problems: r.Errors, Detail: "answer without a media id"}
	}
	return nil
}

// fileError is a local file that cannot be uploaded as described: only an
// operator can fix it, so it is permanent.
func fileError(m MediaFile, err error) error {
	return &Error{Endpoint: EndpointMediaUpload, Class: ClassPermanent, Err: fmt.Errorf("%s: %w", m.Name, err)}
}

func partName(name string) string {
	if b := filepath.Base(name); b != "." && b != "/" && b != "" {
		return b
	}
	return "media"
}
