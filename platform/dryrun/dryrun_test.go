package dryrun

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/platform"
)

func TestPublishResumesAThreadAndLogsEachPost(t *testing.T) {
	var logs bytes.Buffer
	p := New(slog.New(slog.NewJSONHandler(&logs, nil)))
	post := platform.Post{JobID: 7, ScheduleID: "s", Account: "brand", Texts: []string{"one", "two", "three"}, Published: []string{"dry-7-1"}}
	var progress []string
	res, err := p.Publish(context.Background(), post, platform.Hooks{Posted: func(id string, _ time.Time) error { progress = append(progress, id); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if res.SentAt.IsZero() {
		t.Error("SentAt is zero after posts were published")
	}
	if got := strings.Join(res.IDs, ","); got != "dry-7-1,dry-7-2,dry-7-3" {
		t.Errorf("ids = %s", got)
	}
	if got := strings.Join(progress, ","); got != "dry-7-2,dry-7-3" {
		t.Errorf("progress = %s, want only the posts published now", got)
	}
	if n := strings.Count(logs.String(), `"msg":"dry-run post"`); n != 2 {
		t.Errorf("%d posts logged, want 2:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"in_reply_to":"dry-7-2"`) {
		t.Errorf("the third post does not reply to the second:\n%s", logs.String())
	}
	if found, _ := p.Find(context.Background(), "brand", []platform.Post{post}); len(found) != 1 || len(found[0]) != 0 {
		t.Errorf("Find = %v, want nothing: a dry-run post never reaches a platform", found)
	}
}

func TestPublishStopsWhenCancelled(t *testing.T) {
	p := New(slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Publish(ctx, platform.Post{Texts: []string{"x"}}, platform.Hooks{})
	if !errors.Is(err, platform.ErrTransient) {
		t.Errorf("err = %v, want ErrTransient", err)
	}
}

func TestPublishAsksTheGuardBeforeEachPost(t *testing.T) {
	p := New(slog.New(slog.DiscardHandler))
	asked := 0
	guard := func(string, time.Duration) error {
		asked++
		if asked == 2 {
			return platform.ErrFenced
		}
		return nil
	}
	res, err := p.Publish(context.Background(), platform.Post{JobID: 1, Texts: []string{"a", "b", "c"}, Guard: guard}, platform.Hooks{})
	if !errors.Is(err, platform.ErrFenced) || len(res.IDs) != 1 {
		t.Fatalf("ids %v, err %v; want the first post only and ErrFenced", res.IDs, err)
	}
}
