package dryrun

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/herald-social/herald/platform"
)

func TestPublishResumesAThreadAndLogsEachPost(t *testing.T) {
	var logs bytes.Buffer
	p := New(slog.New(slog.NewJSONHandler(&logs, nil)))
	post := platform.Post{JobID: 7, ScheduleID: "s", Account: "brand", Texts: []string{"one", "two", "three"}, Published: []string{"dry-7-1"}}
	var progress []string
	ids, err := p.Publish(context.Background(), post, func(id string) error { progress = append(progress, id); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids, ","); got != "dry-7-1,dry-7-2,dry-7-3" {
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
	if found, _ := p.Find(context.Background(), post); len(found) != 0 {
		t.Errorf("Find = %v, want nothing: a dry-run post never reaches a platform", found)
	}
}

func TestPublishStopsWhenCancelled(t *testing.T) {
	p := New(slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Publish(ctx, platform.Post{Texts: []string{"x"}}, nil)
	if !errors.Is(err, platform.ErrTransient) {
		t.Errorf("err = %v, want ErrTransient", err)
	}
}
