package xapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestUploadImageOneShot(t *testing.T) {
	png := "\x89PNG\r\n\x1a\nfake image bytes"
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		reply(w, http.StatusOK, `{"data":{"id":"1880028106020515840","media_key":"3_1880028106020515840","size":24,"expires_after_secs":86400,"image":{"image_type":"image/png","w":1,"h":1}}}`)
	})
	c, _ := newClient(t, s.URL, nil)
	m, err := c.UploadMedia(context.Background(), MediaFile{Name: "assets/tip.png", Size: int64(len(png)), MediaType: "image/png", Open: openString(png)})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "1880028106020515840" || !m.ExpiresAt.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("media %+v", m)
	}
	reqs := s.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/2/media/upload" || r.RawQuery != "" {
		t.Errorf("request %s %s?%s", r.Method, r.Path, r.RawQuery)
	}
	checkCommon(t, r)
	parts := parseMultipart(t, r)
	// MediaUploadRequestOneShot: media and media_category required,
	// media_type optional, nothing else allowed.
	if got := keys(parts); !reflect.DeepEqual(got, []string{"media", "media_category", "media_type"}) {
		t.Errorf("parts %v", got)
	}
	if p := parts["media"]; p.Data != png || p.FileName != "tip.png" {
		t.Errorf("media part %+v", p)
	}
	if parts["media_category"].Data != "tweet_image" || parts["media_type"].Data != "image/png" {
		t.Errorf("category %q type %q", parts["media_category"].Data, parts["media_type"].Data)
	}
}

// statusScript answers the chunked upload of media 77: initialize, the
// appends, finalize (pending), then STATUS in_progress, then succeeded.
func TestUploadVideoChunkedPollsStatusOnTheClock(t *testing.T) {
	const video = "0123456789"
	var statusCalls atomic.Int32
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch {
		case r.URL.Path == "/2/media/upload/initialize":
			reply(w, 200, `{"data":{"id":"77","media_key":"7_77","expires_after_secs":86400}}`)
		case r.URL.Path == "/2/media/upload/77/append":
			reply(w, 200, `{"data":{"expires_at":1782999999}}`)
		case r.URL.Path == "/2/media/upload/77/finalize":
			reply(w, 200, `{"data":{"id":"77","media_key":"7_77","size":10,"expires_after_secs":86400,"processing_info":{"state":"pending","check_after_secs":5}}}`)
		case r.URL.Path == "/2/media/upload" && r.Method == http.MethodGet:
			if statusCalls.Add(1) == 1 {
				reply(w, 200, `{"data":{"id":"77","processing_info":{"state":"in_progress","check_after_secs":10,"progress_percent":40}}}`)
			} else {
				reply(w, 200, `{"data":{"id":"77","expires_after_secs":86000,"processing_info":{"state":"succeeded","progress_percent":100}}}`)
			}
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL)
			reply(w, 404, `{}`)
		}
	})
	c, clk := newClient(t, s.URL, func(o *Options) { o.ChunkSize = 4 })

	type result struct {
		m   Media
		err error
	}
	done := make(chan result, 1)
	armed := clk.Armed()
	go func() {
		m, err := c.UploadMedia(context.Background(), MediaFile{Name: "clip.mp4", Size: int64(len(video)), MediaType: "video/mp4", Open: openString(video)})
		done <- result{m, err}
	}()
	// Each wait is a timer on the fake clock, armed for check_after_secs.
	for _, wait := range []time.Duration{5 * time.Second, 10 * time.Second} {
		select {
		case <-armed:
		case r := <-done:
			t.Fatalf("upload returned before waiting %v: %+v", wait, r)
		}
		if d, ok := clk.NextDeadline(); !ok || !d.Equal(clk.Now().Add(wait)) {
			t.Fatalf("timer at %v, want now+%v", d, wait)
		}
		armed = clk.Armed()
		clk.Advance(wait)
	}
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.m.ID != "77" || !res.m.ExpiresAt.Equal(t0.Add(15*time.Second).Add(86000*time.Second)) {
		t.Errorf("media %+v", res.m)
	}

	reqs := s.requests()
	var got []string
	for _, r := range reqs {
		got = append(got, r.Method+" "+r.Path+"?"+r.RawQuery)
		checkCommon(t, r)
	}
	want := []string{
		"POST /2/media/upload/initialize?",
		"POST /2/media/upload/77/append?", "POST /2/media/upload/77/append?", "POST /2/media/upload/77/append?",
		"POST /2/media/upload/77/finalize?",
		"GET /2/media/upload?command=STATUS&media_id=77",
		"GET /2/media/upload?command=STATUS&media_id=77",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// MediaUploadConfigRequest (additionalProperties: false).
	checkJSON(t, reqs[0], `{"media_type":"video/mp4","total_bytes":10,"media_category":"tweet_video"}`)
	for i, chunk := range []string{"0123", "4567", "89"} {
		parts := parseMultipart(t, reqs[1+i])
		if k := keys(parts); !reflect.DeepEqual(k, []string{"media", "segment_index"}) {
			t.Errorf("append %d: parts %v", i, k)
		}
		if parts["segment_index"].Data != fmt.Sprint(i) || parts["media"].Data != chunk {
			t.Errorf("append %d: segment %q data %q", i, parts["segment_index"].Data, parts["media"].Data)
		}
	}
	checkNoBody(t, reqs[4])
	checkNoBody(t, reqs[5])
	checkQuery(t, reqs[5], url.Values{"command": {"STATUS"}, "media_id": {"77"}})
}

func TestUploadProcessingFailed(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch r.URL.Path {
		case "/2/media/upload/initialize":
			reply(w, 200, `{"data":{"id":"78","expires_after_secs":86400}}`)
		case "/2/media/upload/78/append":
			reply(w, 200, `{}`)
		case "/2/media/upload/78/finalize":
			reply(w, 200, `{"data":{"id":"78","processing_info":{"state":"failed","progress_percent":0,"error":{"code":1,"name":"InvalidMedia","message":"Invalid or Unsupported media, Reason: UnsupportedMedia."}}}}`)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL)
		}
	})
	c, _ := newClient(t, s.URL, nil)
	_, err := c.UploadMedia(context.Background(), MediaFile{Name: "a.gif", Size: 3, MediaType: "image/gif", Open: openString("GIF")})
	e := errorOf(t, err)
	if e.Class != ClassPermanent || e.Detail != "Invalid or Unsupported media, Reason: UnsupportedMedia." || e.Type != "InvalidMedia" {
		t.Errorf("error %+v", e)
	}
	if !strings.Contains(err.Error(), "UnsupportedMedia") {
		t.Errorf("Error() = %q", err.Error())
	}
	// A small GIF is still chunked, with its own category.
	checkJSON(t, s.requests()[0], `{"media_type":"image/gif","total_bytes":3,"media_category":"tweet_gif"}`)
}

// The caller's context ends while waiting for processing: the wait stops,
// its timer is disarmed, and the error says why.
func TestUploadCancelledWhilePolling(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch r.URL.Path {
		case "/2/media/upload/initialize":
			reply(w, 200, `{"data":{"id":"79"}}`)
		case "/2/media/upload/79/append":
			reply(w, 200, `{}`)
		default:
			reply(w, 200, `{"data":{"id":"79","processing_info":{"state":"in_progress","check_after_secs":60}}}`)
		}
	})
	c, clk := newClient(t, s.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	armed := clk.Armed()
	go func() { <-armed; cancel() }()
	_, err := c.UploadMedia(ctx, MediaFile{Name: "v.mp4", Size: 1, MediaType: "video/mp4", Open: openString("v")})
	if e := errorOf(t, err); e.Class != ClassTransient || !errors.Is(err, context.Canceled) {
		t.Errorf("error %v class %v", err, e.Class)
	}
	if n := clk.Pending(); n != 0 {
		t.Errorf("%d timers still armed", n)
	}
}

func TestUploadFileProblemsArePermanent(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.URL.Path == "/2/media/upload/initialize" {
			reply(w, 200, `{"data":{"id":"80"}}`)
			return
		}
		reply(w, 200, `{}`)
	})
	c, _ := newClient(t, s.URL, func(o *Options) { o.ChunkSize = 4 })
	ctx := context.Background()
	missing := errors.New("no such file")
	tests := []struct {
		name string
		m    MediaFile
	}{
		{"cannot open", MediaFile{Name: "x.png", Size: 3, MediaType: "image/png", Open: func() (io.ReadCloser, error) { return nil, missing }}},
		{"image shorter", MediaFile{Name: "x.png", Size: 10, MediaType: "image/png", Open: openString("short")}},
		{"image longer", MediaFile{Name: "x.png", Size: 2, MediaType: "image/png", Open: openString("longer")}},
		{"video shorter", MediaFile{Name: "x.mp4", Size: 10, MediaType: "video/mp4", Open: openString("short")}},
		{"video longer", MediaFile{Name: "x.mp4", Size: 4, MediaType: "video/mp4", Open: openString("longer")}},
		{"no size", MediaFile{Name: "x.mp4", MediaType: "video/mp4", Open: openString("")}},
		{"unknown type", MediaFile{Name: "x.txt", Size: 1, MediaType: "text/plain", Open: openString("x")}},
		{"unknown category", MediaFile{Name: "x.png", Size: 1, MediaType: "image/png", Category: "dm_image", Open: openString("x")}},
		{"too many chunks", MediaFile{Name: "x.mp4", Size: 4*maxSegments + 1, MediaType: "video/mp4", Open: openString("x")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.UploadMedia(ctx, tt.m)
			if e := errorOf(t, err); e.Class != ClassPermanent || e.Endpoint != EndpointMediaUpload {
				t.Errorf("%v: class %v endpoint %q", err, e.Class, e.Endpoint)
			}
		})
	}
	for _, r := range s.requests() {
		if r.Path == "/2/media/upload" || strings.HasSuffix(r.Path, "/finalize") {
			t.Errorf("a bad file reached %s %s", r.Method, r.Path)
		}
	}
}

func TestMediaCategory(t *testing.T) {
	tests := []struct {
		typ, category, want string
	}{
		{"image/png", "", CategoryImage},
		{"image/jpeg", "", CategoryImage},
		{"IMAGE/WEBP", "", CategoryImage},
		{"image/gif", "", CategoryGIF},
		{"video/mp4", "", CategoryVideo},
		{"video/quicktime", "", CategoryVideo},
		{"image/gif", CategoryImage, CategoryImage},
		{"video/mp4", CategoryGIF, CategoryGIF},
		{"application/pdf", "", ""},
		{"", "", ""},
		{"image/png", "amplify_video", ""},
	}
	for _, tt := range tests {
		got, err := mediaCategory(MediaFile{MediaType: tt.typ, Category: tt.category})
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("%q/%q: %q, %v; want %q", tt.typ, tt.category, got, err, tt.want)
		}
	}
}

func TestSetAltText(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		reply(w, 200, `{"data":{"id":"1146654567674912769","associated_metadata":{"alt_text":{"text":"A dancing cat"}}}}`)
	})
	c, _ := newClient(t, s.URL, nil)
	if err := c.SetAltText(context.Background(), "1146654567674912769", `A "dancing" cat`); err != nil {
		t.Fatal(err)
	}
	r := s.requests()[0]
	if r.Method != http.MethodPost || r.Path != "/2/media/metadata" || r.RawQuery != "" {
		t.Errorf("request %s %s?%s", r.Method, r.Path, r.RawQuery)
	}
	checkCommon(t, r)
	// MetadataCreateRequest: id, metadata.alt_text.text.
	checkJSON(t, r, `{"id":"1146654567674912769","metadata":{"alt_text":{"text":"A \"dancing\" cat"}}}`)
}
