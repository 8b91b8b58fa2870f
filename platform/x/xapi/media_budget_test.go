package xapi

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowMedia answers a chunked upload of media 81: finalize says pending,
// then the first polls STATUS answers say in_progress, each with
// check_after_secs 900, and the next one says succeeded.
func slowMedia(t *testing.T, polls int) *server {
	var status atomic.Int32
	return newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch {
		case r.URL.Path == "/2/media/upload/initialize":
			reply(w, 200, `{"data":{"id":"81","media_key":"7_81","expires_after_secs":86400}}`)
		case r.URL.Path == "/2/media/upload/81/append":
			reply(w, 200, `{}`)
		case r.URL.Path == "/2/media/upload/81/finalize":
			reply(w, 200, `{"data":{"id":"81","processing_info":{"state":"pending","check_after_secs":900}}}`)
		case r.URL.Path == "/2/media/upload" && r.Method == http.MethodGet:
			if int(status.Add(1)) <= polls {
				reply(w, 200, `{"data":{"id":"81","processing_info":{"state":"in_progress","check_after_secs":900,"progress_percent":50}}}`)
				return
			}
			reply(w, 200, `{"data":{"id":"81","expires_after_secs":3600,"processing_info":{"state":"succeeded","progress_percent":100}}}`)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL)
			reply(w, 404, `{}`)
		}
	})
}

// deadlines records, for each request, how long its context had left when
// the transport got it.
type deadlines struct {
	mu   sync.Mutex
	left []time.Duration // -1: no deadline
}

func (d *deadlines) RoundTrip(req *http.Request) (*http.Response, error) {
	left := time.Duration(-1)
	if dl, ok := req.Context().Deadline(); ok {
		left = time.Until(dl)
	}
	d.mu.Lock()
	d.left = append(d.left, left)
	d.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (d *deadlines) get() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Duration(nil), d.left...)
}

// TestUploadTimeBudget: the caller's context is the upload's only overall
// bound, and each request still gets its own Options.Timeout. Processing
// here takes an hour of polling on the fake clock (4 waits of 900 s), and
// the deadlines are real time far beyond what the test takes.
func TestUploadTimeBudget(t *testing.T) {
	tests := []struct {
		name     string
		timeout  time.Duration // Options.Timeout
		deadline time.Duration // of the caller's context; 0: none
		polls    int           // STATUS answers in_progress
		// Each request's context must have between minLeft and maxLeft.
		minLeft, maxLeft time.Duration
		wantErr          string
	}{
		{name: "an hour of processing within a 3-hour deadline", timeout: time.Hour, deadline: 3 * time.Hour, polls: 3,
			minLeft: time.Hour - time.Minute, maxLeft: time.Hour},
		{name: "a deadline shorter than Options.Timeout bounds each request", timeout: time.Hour, deadline: 10 * time.Minute, polls: 3,
			minLeft: 9 * time.Minute, maxLeft: 10 * time.Minute},
		{name: "without a deadline, polling stops after 30 minutes", timeout: time.Hour, polls: 3,
			minLeft: time.Hour - time.Minute, maxLeft: time.Hour, wantErr: "still in_progress after 30m0s"},
		{name: "without a deadline, 30 minutes of polling are enough", timeout: time.Hour, polls: 1,
			minLeft: time.Hour - time.Minute, maxLeft: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := slowMedia(t, tt.polls)
			rec := &deadlines{}
			c, clk := newClient(t, s.URL, func(o *Options) {
				o.Timeout = tt.timeout
				o.ChunkSize = 4
				o.HTTPClient = &http.Client{Transport: rec}
			})
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			stop := fireTimers(clk)
			m, err := c.UploadMedia(ctx, MediaFile{Name: "clip.mp4", Size: 10, MediaType: "video/mp4", Open: openString("0123456789")})
			stop()
			if tt.wantErr != "" {
				if e := errorOf(t, err); e.Class != ClassTransient || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v (class %v), want transient %q", err, e.Class, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				// expires_after_secs counts from the answer that carried it,
				// the last STATUS, after 900 s per wait.
				waited := time.Duration(tt.polls+1) * 900 * time.Second
				if m.ID != "81" || !m.ExpiresAt.Equal(t0.Add(waited).Add(time.Hour)) {
					t.Errorf("media %+v, want 81 expiring at %v", m, t0.Add(waited).Add(time.Hour))
				}
			}
			left := rec.get()
			// initialize, 3 appends, finalize, then the polls (one of them
			// the last, succeeded, unless polling gave up).
			want := 5 + tt.polls + 1
			if tt.wantErr != "" {
				want = 5 + 2 // two waits of 900 s fit in 30 minutes
			}
			if len(left) != want {
				t.Errorf("%d requests, want %d", len(left), want)
			}
			for i, l := range left {
				if l < tt.minLeft || l > tt.maxLeft {
					t.Errorf("request %d had %v left, want %v to %v", i, l, tt.minLeft, tt.maxLeft)
				}
			}
		})
	}
}
