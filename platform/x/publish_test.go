package x

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/platform/x/fakex"
	"github.com/herald-social/herald/platform/x/ratelimit"
	"github.com/herald-social/herald/schedules"
)

// brandWorld is a world with the account "brand" configured against the
// fake, with X's current limits and windows.
func brandWorld(t *testing.T, opts fakex.Options, windows ...schedules.LimitWindow) (*world, *Platform) {
	t.Helper()
	w := newWorld(t, opts)
	w.fake.AddUser(fakex.User{ID: "1", Username: "brand", AccessToken: "at-0", TokenTTL: -1})
	w.env = map[string]string{"AT": "at-0"}
	p := w.platform(ratelimit.NewMemory(w.clk))
	a := oauth2Account("brand", false)
	a.LimitWindows = windows
	if err := p.Configure(context.Background(), config(a)); err != nil {
		t.Fatal(err)
	}
	return w, p
}

// TestGuardRefusalSendsNothing: a guard that refuses (the job's lease
// might not outlive the request) stops the publish before anything
// reaches X, including the rest of a thread.
func TestGuardRefusalSendsNothing(t *testing.T) {
	w, p := brandWorld(t, fakex.Options{})
	for _, refuseAt := range []int{1, 2} {
		t.Run(fmt.Sprintf("refuse-request-%d", refuseAt), func(t *testing.T) {
			before := len(w.fake.Posts())
			asked := 0
			pst := post("brand", fmt.Sprintf("guarded %d", refuseAt))
			pst.Texts = append(pst.Texts, fmt.Sprintf("reply %d", refuseAt))
			pst.Guard = func(endpoint string, timeout time.Duration) error {
				asked++
				if timeout <= 0 {
					t.Errorf("guard asked about %s with no timeout", endpoint)
				}
				if asked >= refuseAt {
					return fmt.Errorf("lease: %w", platform.ErrFenced)
				}
				return nil
			}
			res, err := p.Publish(context.Background(), pst, platform.Hooks{})
			if !errors.Is(err, platform.ErrFenced) {
				t.Fatalf("err = %v, want ErrFenced", err)
			}
			sent := len(w.fake.Posts()) - before
			if sent != len(res.IDs) {
				t.Errorf("%d posts reached X, %d reported", sent, len(res.IDs))
			}
			if refuseAt == 1 && (sent != 0 || !res.SentAt.IsZero()) {
				t.Errorf("refused at once, yet %d posts reached X (SentAt %v)", sent, res.SentAt)
			}
		})
	}
}

// TestMediaUploadIsRecordedAndReused: the first attempt uploads and
// reports the upload (id, digest, expiry) through the Media hook before
// the post is sent; a retry with the recorded media sends no upload while
// X holds them, uploads again once they expired, and refuses a file whose
// bytes changed.
func TestMediaUploadIsRecordedAndReused(t *testing.T) {
	w, p := brandWorld(t, fakex.Options{MediaTTL: time.Hour})
	img := filepath.Join(t.TempDir(), "tip.png")
	if err := os.WriteFile(img, pngBytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pst := post("brand", "with a picture")
	pst.Media = []platform.Media{{Path: img, Alt: "a tip"}}
	var recorded []platform.Media
	base := 0 // posts at the fake before the publish under test
	hooks := platform.Hooks{Media: func(m []platform.Media) error {
		if n := len(w.fake.Posts()); n != base {
			t.Errorf("media recorded after %d posts were sent", n-base)
		}
		recorded = m
		return nil
	}}
	// The post itself fails after the upload (a 400 that stores nothing).
	w.fake.Inject(fakex.Fault{Endpoint: fakex.EndpointCreatePost, Status: 400})
	if _, err := p.Publish(ctx, pst, hooks); !errors.Is(err, platform.ErrPermanent) {
		t.Fatalf("err = %v, want the injected refusal", err)
	}
	if len(recorded) != 1 || recorded[0].MediaID == "" || !strings.HasPrefix(recorded[0].Digest, "sha256:") || recorded[0].Size == 0 {
		t.Fatalf("recorded media %+v", recorded)
	}
	uploads := func() int {
		n := 0
		for _, r := range w.fake.Requests() {
			if strings.Contains(r.Endpoint, "/2/media/upload") {
				n++
			}
		}
		return n
	}
	first := uploads()

	// Attempt 2 reuses the upload.
	retry := pst
	retry.Media = recorded
	recorded = nil
	base = len(w.fake.Posts())
	res, err := p.Publish(ctx, retry, hooks)
	if err != nil || len(res.IDs) != 1 {
		t.Fatalf("retry: %v %v", res.IDs, err)
	}
	if n := uploads(); n != first || recorded != nil {
		t.Errorf("retry uploaded again (%d upload requests, was %d; recorded %+v)", n, first, recorded)
	}
	posts := w.fake.Posts()
	if got := posts[len(posts)-1].MediaIDs; len(got) != 1 || got[0] != retry.Media[0].MediaID {
		t.Errorf("the post carries media %v, want the recorded %s", got, retry.Media[0].MediaID)
	}

	// A recorded upload that expired is uploaded again, and must be the
	// same bytes.
	w.clk.Advance(2 * time.Hour)
	expired := post("brand", "with the picture again")
	expired.Media = retry.Media
	base = len(w.fake.Posts())
	if _, err := p.Publish(ctx, expired, hooks); err != nil {
		t.Fatal(err)
	}
	if n := uploads(); n == first || len(recorded) != 1 || recorded[0].MediaID == retry.Media[0].MediaID || recorded[0].Digest != retry.Media[0].Digest {
		t.Errorf("expired media: %d upload requests (was %d), recorded %+v", n, first, recorded)
	}

	// The file changed since it was first uploaded: refused.
	w.clk.Advance(2 * time.Hour)
	if err := os.WriteFile(img, append(pngBytes(), 0), 0o644); err != nil {
		t.Fatal(err)
	}
	changed := post("brand", "with a changed picture")
	changed.Media = recorded
	before := len(w.fake.Posts())
	if _, err := p.Publish(ctx, changed, hooks); !errors.Is(err, platform.ErrMediaChanged) {
		t.Fatalf("err = %v, want ErrMediaChanged", err)
	}
	if len(w.fake.Posts()) != before {
		t.Error("a post with changed media was sent")
	}
}

// pngBytes is a 1x1 PNG.
func pngBytes() []byte {
	return []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
}

// TestFindSharesOneReadAndGivesAPostToOneJob: three unknown jobs of one
// account are looked for with one timeline read; two with the same text
// cannot both claim the one post X has, and a post created before a job
// first sent is not that job's.
func TestFindSharesOneReadAndGivesAPostToOneJob(t *testing.T) {
	w, p := brandWorld(t, fakex.Options{})
	ctx := context.Background()
	old, err := p.Publish(ctx, post("brand", "an older post"), platform.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(time.Minute)
	sent := w.clk.Now()
	landed, err := p.Publish(ctx, post("brand", "same text"), platform.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	jobs := []platform.Post{post("brand", "same text"), post("brand", "same text"), post("brand", "an older post")}
	for i := range jobs {
		jobs[i].JobID, jobs[i].FirstSentAt = int64(i+1), sent
	}
	reads := 0
	before := len(w.fake.Requests())
	found, err := p.Find(ctx, "brand", jobs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range w.fake.Requests()[before:] {
		if strings.Contains(r.Path, "/tweets") && r.Method == "GET" {
			reads++
		}
	}
	if reads != 1 {
		t.Errorf("%d timeline reads for 3 jobs, want 1", reads)
	}
	if len(found) != 3 || len(found[0]) != 1 || found[0][0] != landed.IDs[0] || len(found[1]) != 0 || len(found[2]) != 0 {
		t.Errorf("found %v; want the landed post %v for the first job only (the older post %v is no job's)", found, landed.IDs, old.IDs)
	}
}

// TestEveryUploadRequestIsCounted: a chunked upload's requests each take
// one from the media upload window, so a video cannot slip past it.
func TestEveryUploadRequestIsCounted(t *testing.T) {
	w, p := brandWorld(t, fakex.Options{MediaProcessing: time.Second},
		schedules.LimitWindow{Endpoint: "media_upload", Scope: "user", Limit: 3, Per: 15 * time.Minute})
	video := filepath.Join(t.TempDir(), "clip.mp4")
	if err := os.WriteFile(video, make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	pst := post("brand", "a clip")
	pst.Media = []platform.Media{{Path: video}}
	done := make(chan error, 1)
	go func() { _, err := p.Publish(context.Background(), pst, platform.Hooks{}); done <- err }()
	for {
		select {
		case err := <-done:
			// initialize, append, finalize use the window up; the STATUS
			// poll (or the post) must wait.
			if !errors.Is(err, platform.ErrDeferred) {
				t.Fatalf("err = %v, want a deferral once the window of 3 is used up", err)
			}
			if n := len(w.fake.Posts()); n != 0 {
				t.Errorf("%d posts sent", n)
			}
			return
		case <-w.clk.Armed():
			if d, ok := w.clk.NextDeadline(); ok {
				w.clk.Set(d)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("publish did not end")
		}
	}
}

// TestMediaLinkedOutOfThePlanIsRefused: validation confined the file to
// the plan's folder, but a link swapped in since leads out of it: the
// publish fails for good, and nothing reaches X. The same file opened
// straight (no link) is uploaded, so the refusal is the link's.
func TestMediaLinkedOutOfThePlanIsRefused(t *testing.T) {
	w, p := brandWorld(t, fakex.Options{})
	base := t.TempDir()
	plan := filepath.Join(base, "plan")
	secret := filepath.Join(base, "secret.png")
	if err := os.Mkdir(plan, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secret, pngBytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(plan, "tip.png")); err != nil {
		t.Fatal(err)
	}
	pst := post("brand", "with a swapped picture")
	pst.Media = []platform.Media{{Path: filepath.Join(plan, "tip.png"), Root: plan}}
	_, err := p.Publish(context.Background(), pst, platform.Hooks{})
	if !errors.Is(err, platform.ErrPermanent) || !errors.Is(err, schedules.ErrOutsideRoot) {
		t.Fatalf("err = %v, want a permanent refusal of a path outside the plan", err)
	}
	for _, r := range w.fake.Requests() {
		t.Errorf("request %s reached X", r.Endpoint)
	}
	if len(w.fake.Posts()) != 0 {
		t.Error("a post reached X")
	}

	pst.Media = []platform.Media{{Path: secret, Root: base}}
	if _, err := p.Publish(context.Background(), pst, platform.Hooks{}); err != nil {
		t.Fatalf("the same file within its root: %v", err)
	}
}
