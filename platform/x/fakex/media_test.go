package fakex_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/platform/x/fakex"
)

// pngBytes is a small real PNG.
func pngBytes(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// multipartReq sends fields and a media part as multipart/form-data.
func (h *harness) multipart(path, token string, media []byte, fields map[string]string) reply {
	h.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if media != nil {
		fw, _ := mw.CreateFormFile("media", "file")
		_, _ = fw.Write(media)
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", h.ts.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	r, err := send(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

type uploadData struct {
	Data struct {
		ID               string `json:"id"`
		MediaKey         string `json:"media_key"`
		Size             int64  `json:"size"`
		ExpiresAfterSecs int    `json:"expires_after_secs"`
		ProcessingInfo   *struct {
			State           string `json:"state"`
			CheckAfterSecs  int    `json:"check_after_secs"`
			ProgressPercent int    `json:"progress_percent"`
			Error           *struct{ Message string }
		} `json:"processing_info"`
	}
}

func decodeUpload(t *testing.T, r reply) uploadData {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var u uploadData
	if err := json.Unmarshal(r.body, &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// chunked uploads data in two segments and finalizes it.
func (h *harness) chunked(token, mediaType, category string, data []byte) (string, reply) {
	h.t.Helper()
	init := decodeUpload(h.t, h.do("POST", "/2/media/upload/initialize", token,
		map[string]any{"media_type": mediaType, "total_bytes": len(data), "media_category": category}))
	id := init.Data.ID
	half := len(data) / 2
	for i, seg := range [][]byte{data[:half], data[half:]} {
		r := h.multipart("/2/media/upload/"+id+"/append", token, seg, map[string]string{"segment_index": strconv.Itoa(i)})
		if r.status != 200 {
			h.t.Fatalf("append %d: %d %s", i, r.status, r.body)
		}
	}
	return id, h.do("POST", "/2/media/upload/"+id+"/finalize", token, nil)
}

func TestVideoProcessingOnTheFakeClock(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{MediaProcessing: 4 * time.Second})
	h.longLived()
	id, fin := h.chunked(aliceToken, "video/mp4", "tweet_video", bytes.Repeat([]byte{1}, 1000))
	f := decodeUpload(t, fin)
	if f.Data.MediaKey != "7_"+id || f.Data.Size != 1000 || f.Data.ExpiresAfterSecs != 86400 {
		t.Errorf("finalize data %+v", f.Data)
	}
	if pi := f.Data.ProcessingInfo; pi == nil || pi.State != "pending" || pi.CheckAfterSecs != 4 {
		t.Fatalf("after finalize: %s", fin.body)
	}
	withVideo := map[string]any{"text": "a video", "media": map[string]any{"media_ids": []string{id}}}
	if r := h.do("POST", "/2/tweets", aliceToken, withVideo); r.status != 400 || firstError(t, r) != "Your media IDs are invalid." {
		t.Fatalf("posting unprocessed media: %d %s", r.status, r.body)
	}
	steps := []struct {
		advance    time.Duration
		state      string
		checkAfter int
	}{
		{3 * time.Second, "pending", 1},
		{time.Second, "in_progress", 4},
		{3 * time.Second, "in_progress", 1},
		{time.Second, "succeeded", 0},
	}
	for _, s := range steps {
		h.clk.Advance(s.advance)
		u := decodeUpload(t, h.do("GET", "/2/media/upload?command=STATUS&media_id="+id, aliceToken, nil))
		if pi := u.Data.ProcessingInfo; pi == nil || pi.State != s.state || pi.CheckAfterSecs != s.checkAfter {
			t.Fatalf("at +%v: %+v, want %s after %ds", s.advance, pi, s.state, s.checkAfter)
		}
		if st, _ := h.srv.Media(id); st.State != s.state {
			t.Errorf("Media().State = %s, want %s", st.State, s.state)
		}
	}
	if r := h.do("POST", "/2/tweets", bobToken, withVideo); r.status != 400 {
		t.Errorf("someone else's media: %d", r.status)
	}
	h.post(aliceToken, withVideo)
	if p := h.srv.Posts()[0]; len(p.MediaIDs) != 1 || p.MediaIDs[0] != id {
		t.Errorf("post media %v", p.MediaIDs)
	}
	r := h.do("GET", "/2/tweets?ids="+h.srv.Posts()[0].ID+"&tweet.fields=attachments", aliceToken, nil)
	if !strings.Contains(string(r.body), `"attachments":{"media_keys":["7_`+id+`"]}`) {
		t.Errorf("lookup %s", r.body)
	}

	// Media ids expire a day after the upload began.
	h.clk.Advance(24 * time.Hour)
	if r := h.do("POST", "/2/tweets", aliceToken, map[string]any{"text": "again", "media": map[string]any{"media_ids": []string{id}}}); r.status != 400 {
		t.Errorf("expired media: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/2/media/upload?command=STATUS&media_id="+id, aliceToken, nil); r.status != 400 {
		t.Errorf("status of expired media: %d", r.status)
	}
}

func TestMediaProcessingCanFail(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{MediaProcessing: time.Second})
	h.srv.Inject(fakex.Fault{Endpoint: fakex.EndpointMediaFinalize, FailProcessing: true})
	id, fin := h.chunked(aliceToken, "image/gif", "tweet_gif", bytes.Repeat([]byte("GIF89a"), 10))
	if f := decodeUpload(t, fin); f.Data.MediaKey != "16_"+id || f.Data.ProcessingInfo.State != "pending" {
		t.Fatalf("finalize %s", fin.body)
	}
	h.clk.Advance(2 * time.Second)
	u := decodeUpload(t, h.do("GET", "/2/media/upload?command=STATUS&media_id="+id, aliceToken, nil))
	if pi := u.Data.ProcessingInfo; pi.State != "failed" || pi.Error == nil || pi.Error.Message == "" {
		t.Fatalf("status %+v", pi)
	}
	if r := h.do("POST", "/2/tweets", aliceToken, map[string]any{"media": map[string]any{"media_ids": []string{id}}}); r.status != 400 {
		t.Errorf("failed media attached: %d", r.status)
	}

	// FailMedia does the same from Go.
	id2, _ := h.chunked(aliceToken, "video/mp4", "tweet_video", []byte("0123456789"))
	if !h.srv.FailMedia(id2) || h.srv.FailMedia("1") {
		t.Fatal("FailMedia")
	}
	h.clk.Advance(2 * time.Second)
	if st, _ := h.srv.Media(id2); st.State != "failed" {
		t.Errorf("state %s", st.State)
	}
}

func TestChunkedUploadChecks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	init := func(body map[string]any) reply { return h.do("POST", "/2/media/upload/initialize", aliceToken, body) }
	tests := []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"image over 5 MB", map[string]any{"media_type": "image/png", "total_bytes": 5<<20 + 1, "media_category": "tweet_image"}, "File size exceeds 5242880 bytes."},
		{"GIF over 15 MB", map[string]any{"media_type": "image/gif", "total_bytes": 15<<20 + 1, "media_category": "tweet_gif"}, "File size exceeds 15728640 bytes."},
		{"video over 512 MB", map[string]any{"media_type": "video/mp4", "total_bytes": 512<<20 + 1, "media_category": "tweet_video"}, "File size exceeds 536870912 bytes."},
		{"no size", map[string]any{"media_type": "video/mp4"}, "$.total_bytes: is missing but it is required"},
		{"unknown category", map[string]any{"media_type": "video/mp4", "total_bytes": 1, "media_category": "tweet_hologram"}, "$.media_category: does not have a value in the enumeration ["},
		{"unknown member", map[string]any{"media_type": "video/mp4", "total_bytes": 1, "command": "INIT"}, "$.command: is not defined in the schema"},
	}
	for _, tt := range tests {
		r := init(tt.body)
		if r.status != 400 || !strings.HasPrefix(firstError(t, r), tt.msg) {
			t.Errorf("%s: %d %s, want %q", tt.name, r.status, r.body, tt.msg)
		}
	}
	// Video at exactly the limit is accepted (the bytes are never sent here).
	if r := init(map[string]any{"media_type": "video/mp4", "total_bytes": 512 << 20, "media_category": "tweet_video"}); r.status != 200 {
		t.Errorf("video at the limit: %d %s", r.status, r.body)
	}

	id := decodeUpload(t, init(map[string]any{"media_type": "image/png", "total_bytes": 10, "media_category": "tweet_image"})).Data.ID
	appendSeg := func(seg []byte, idx string) reply {
		return h.multipart("/2/media/upload/"+id+"/append", aliceToken, seg, map[string]string{"segment_index": idx})
	}
	if r := appendSeg([]byte("0123456789A"), "0"); r.status != 400 || firstError(t, r) != "Segments do not add up to provided total file size." {
		t.Errorf("a segment over total_bytes: %d %s", r.status, r.body)
	}
	if r := appendSeg([]byte("01234"), "1000"); r.status != 400 {
		t.Errorf("segment_index 1000: %d", r.status)
	}
	if r := appendSeg([]byte("01234"), "0"); r.status != 200 {
		t.Fatalf("append: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/2/media/upload/"+id+"/finalize", aliceToken, nil); r.status != 400 || firstError(t, r) != "Segments do not add up to provided total file size." {
		t.Errorf("finalize short: %d %s", r.status, r.body)
	}
	if r := appendSeg([]byte("56789"), "1"); r.status != 200 {
		t.Fatalf("append: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/2/media/upload/"+id+"/finalize", aliceToken, nil); r.status != 400 || firstError(t, r) != "media type unrecognized." {
		t.Errorf("finalize of bytes that are no image: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/2/media/upload/"+id+"/append", bobToken, nil); r.status != 400 {
		t.Errorf("bob appending to alice's upload: %d", r.status)
	}
	if st, ok := h.srv.Media(id); !ok || st.Received != 10 || st.TotalBytes != 10 || st.State != "uploading" || st.OwnerID != aliceID {
		t.Errorf("Media = %+v", st)
	}
}

func TestOneShotImagesAltTextAndMix(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	img := pngBytes(t)
	var ids []string
	for range 4 {
		u := decodeUpload(t, h.multipart("/2/media/upload", aliceToken, img, map[string]string{"media_category": "tweet_image", "media_type": "image/png"}))
		if u.Data.MediaKey != "3_"+u.Data.ID || u.Data.Size != int64(len(img)) || u.Data.ProcessingInfo != nil {
			t.Fatalf("upload %+v", u.Data)
		}
		ids = append(ids, u.Data.ID)
	}
	// The JSON form, base64.
	u := decodeUpload(t, h.do("POST", "/2/media/upload", aliceToken, map[string]any{"media": base64.StdEncoding.EncodeToString(img), "media_category": "tweet_image"}))
	if u.Data.ID == "" {
		t.Fatal("no id")
	}
	if r := h.multipart("/2/media/upload", aliceToken, []byte("not an image"), map[string]string{"media_category": "tweet_image"}); r.status != 400 {
		t.Errorf("not an image: %d", r.status)
	}
	if r := h.multipart("/2/media/upload", aliceToken, img, nil); r.status != 400 || firstError(t, r) != "$.media_category: is missing but it is required" {
		t.Errorf("no category: %d %s", r.status, r.body)
	}
	if r := h.multipart("/2/media/upload", aliceToken, img, map[string]string{"media_category": "tweet_video"}); r.status != 400 {
		t.Errorf("one-shot video: %d", r.status)
	}

	r := h.do("POST", "/2/media/metadata", aliceToken, map[string]any{"id": ids[0], "metadata": map[string]any{"alt_text": map[string]any{"text": "A tip, drawn"}}})
	sameJSON(t, r, `{"data":{"id":"`+ids[0]+`","associated_metadata":{"alt_text":{"text":"A tip, drawn"}}}}`)
	if r := h.do("POST", "/2/media/metadata", aliceToken, map[string]any{"id": ids[1], "metadata": map[string]any{"alt_text": map[string]any{"text": strings.Repeat("x", 1001)}}}); r.status != 400 {
		t.Errorf("alt text over 1000: %d", r.status)
	}
	if r := h.do("POST", "/2/media/metadata", bobToken, map[string]any{"id": ids[1], "metadata": map[string]any{"alt_text": map[string]any{"text": "x"}}}); r.status != 400 {
		t.Errorf("bob's alt text on alice's media: %d", r.status)
	}

	h.post(aliceToken, map[string]any{"text": "four images", "media": map[string]any{"media_ids": ids}})
	p := h.srv.Posts()[0]
	if len(p.MediaIDs) != 4 || p.AltTexts[ids[0]] != "A tip, drawn" || len(p.AltTexts) != 1 {
		t.Errorf("post %+v", p)
	}
	// No text is fine with media; a GIF does not mix with images.
	h.post(aliceToken, map[string]any{"media": map[string]any{"media_ids": ids[:1]}})
	gif, _ := h.chunked(aliceToken, "image/gif", "tweet_gif", []byte("GIF89a...."))
	h.clk.Advance(time.Minute)
	r = h.do("POST", "/2/tweets", aliceToken, map[string]any{"text": "mixed", "media": map[string]any{"media_ids": []string{ids[1], gif}}})
	if r.status != 400 || firstError(t, r) != "A post may carry up to 4 images, or 1 GIF, or 1 video." {
		t.Errorf("mixed media: %d %s", r.status, r.body)
	}
}
