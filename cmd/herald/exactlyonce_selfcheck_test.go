package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// TestExactlyOnceChecksCatchBreaks holds the checks of TestExactlyOnce to
// account, without processes: a run that kept the promise passes them, and
// each way of breaking it is reported. A proof whose checks cannot fail
// proves nothing.
func TestExactlyOnceChecksCatchBreaks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		break_ func(w *checkWorld)
		want   string
	}{
		{"kept", func(w *checkWorld) {}, ""},
		{"a fire without a job", func(w *checkWorld) { w.jobs = append(w.jobs[:4], w.jobs[5:]...) },
			"no job for the 1 fire(s) planned between"},
		{"a job left in flight", func(w *checkWorld) { w.jobs[1].Status = store.StatusUnknown }, "left unknown"},
		{"dead without a reason", func(w *checkWorld) {
			w.jobs[2].Status, w.jobs[2].PostIDs = store.StatusDead, nil
			w.posts = w.without(w.jobs[2].Run)
		}, "dead without a reason"},
		{"dead, but posted", func(w *checkWorld) {
			w.jobs[2].Status, w.jobs[2].DeadReason, w.jobs[2].PostIDs = store.StatusDead, "expired", w.jobs[2].PostIDs[:1]
		}, "dead, yet post"},
		{"dead, its posts deleted", func(w *checkWorld) {
			w.jobs[2].Status, w.jobs[2].DeadReason, w.jobs[2].PostIDs = store.StatusDead, "expired", nil
			for i := range w.posts {
				if st, _ := parseSoakText(w.posts[i].AuthoredText); st.Run == w.jobs[2].Run {
					w.posts[i].Deleted = true
				}
			}
		}, ""},
		{"missed, but posted", func(w *checkWorld) { w.jobs[2].Status, w.jobs[2].PostIDs = store.StatusMissed, nil }, "missed, yet post"},
		{"a text posted twice", func(w *checkWorld) {
			p := w.posts[6]
			p.ID = "99999"
			w.posts = append(w.posts, p)
		}, "posted 2 times at X"},
		{"a post id not at X", func(w *checkWorld) { w.posts = w.without(w.jobs[3].Run) }, "is not at X"},
		{"X has another text", func(w *checkWorld) { w.posts[0].AuthoredText = "s01 #1 12:00:00 v7" }, "at X says"},
		{"a reply to the wrong post", func(w *checkWorld) { w.posts[3].ReplyTo = "1" }, "not the post before"},
		{"a foreign post", func(w *checkWorld) { w.posts = append(w.posts, fakePost{ID: "5", AuthoredText: "hello"}) }, "no text of the plan"},
		{"a post of no job", func(w *checkWorld) {
			w.posts = append(w.posts, fakePost{ID: "6", AuthorID: userID("acct01"), AuthoredText: "s01 #99 12:00:00 v1"})
		}, "which has no job"},
		{"a text rendered after an edit", func(w *checkWorld) { w.refreeze(1, 2) }, "written after the job was recorded"},
		{"a text rendered before an edit long applied", func(w *checkWorld) { w.refreeze(10, 1) }, "after the node ran v2"},
		{"a text of another fire", func(w *checkWorld) { w.jobs[5].Post.Texts[0] = w.jobs[6].Post.Texts[0] }, "renders"},
		{"fired after the stop", func(w *checkWorld) { w.addFire(14) }, "after the node disabled"},
		{"stopped firing early", func(w *checkWorld) { w.jobs, w.posts = w.jobs[:6], w.posts[:12] }, "yet it kept firing until"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newCheckWorld(t)
			tt.break_(w)
			f := findBreaks(w.r, w.jobs, w.posts)
			var all []string
			all = append(all, f.general...)
			for id, ps := range f.byJob {
				for _, p := range ps {
					all = append(all, fmt.Sprintf("job %d: %s", id, p))
				}
			}
			got := strings.Join(all, "\n")
			switch {
			case tt.want == "" && got != "":
				t.Errorf("a run that kept the promise is reported:\n%s", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("not reported (want %q); the findings:\n%s", tt.want, got)
			}
		})
	}
}

// checkWorld is what TestExactlyOnce collects, made by hand: a schedule of
// a post and a reply firing every second from t0 for 10 seconds, its text
// edited to v2 at t0+5s, disabled at t0+10s; every fire published.
type checkWorld struct {
	t     *testing.T
	r     *soakRun
	s     soakSchedule
	t0    time.Time
	jobs  []store.Job
	posts []fakePost
}

func newCheckWorld(t *testing.T) *checkWorld {
	t0 := time.Date(2026, 5, 11, 12, 0, 0, 0, time.UTC)
	s := soakSchedule{ID: "s01", Account: "acct01", Every: 1, Replies: 1}
	log := writeFile(t, t.TempDir(), "serve-1.log", `{"msg":"herald started"}`+"\n")
	node := &soakNode{n: 1, logPath: log, reloads: []soakReload{
		{Node: 1, At: t0.Add(-9 * time.Second), Result: "ok", Revision: "r1"},
		{Node: 1, At: t0.Add(5200 * time.Millisecond), Result: "ok", Revision: "r2"},
		{Node: 1, At: t0.Add(10200 * time.Millisecond), Result: "ok", Revision: "r3"},
	}}
	r := &soakRun{plan: soakPlan{Schedules: []soakSchedule{s}}, dir: filepath.Dir(log), nodes: []*soakNode{node},
		started: t0.Add(-time.Second),
		writes: []soakWrite{
			{At: t0.Add(-10 * time.Second), Revision: "r1", Versions: []int{1}, Enabled: true},
			{At: t0.Add(5 * time.Second), Revision: "r2", Versions: []int{2}, Enabled: true},
			{At: t0.Add(10 * time.Second), Revision: "r3", Versions: []int{2}, Enabled: false},
		}}
	r.stopped = r.writes[2]
	w := &checkWorld{t: t, r: r, s: s, t0: t0}
	for i := range 10 {
		w.addFire(i)
	}
	return w
}

// addFire adds the job of the fire at t0+i seconds, published, and its
// posts at X.
func (w *checkWorld) addFire(i int) {
	run := int64(len(w.jobs) + 1)
	planned := w.t0.Add(time.Duration(i) * time.Second)
	j := store.Job{ID: run, ScheduleID: w.s.ID, PlannedAt: planned, Status: store.StatusSucceeded, Attempt: 1,
		Run: run, Trigger: store.TriggerScheduled, CreatedAt: planned.Add(time.Millisecond)}
	w.jobs = append(w.jobs, j)
	v := 1
	if !planned.Before(w.t0.Add(5 * time.Second)) {
		v = 2
	}
	w.refreeze(int(run), v)
	jp := &w.jobs[len(w.jobs)-1]
	for part, text := range jp.Post.Texts {
		id := fmt.Sprint(1000*run + int64(part))
		p := fakePost{ID: id, AuthorID: userID(w.s.Account), Text: text, AuthoredText: text}
		if part > 0 {
			p.ReplyTo = jp.PostIDs[part-1]
		}
		jp.PostIDs = append(jp.PostIDs, id)
		w.posts = append(w.posts, p)
	}
}

// refreeze gives job run the texts of version v.
func (w *checkWorld) refreeze(run, v int) {
	j := &w.jobs[run-1]
	j.Post = &store.FrozenPost{Account: w.s.Account}
	for part := range w.s.Posts() {
		j.Post.Texts = append(j.Post.Texts, w.s.Text(part, j.Run, j.PlannedAt, v))
	}
}

// without is the posts at X but those of run.
func (w *checkWorld) without(run int64) []fakePost {
	var out []fakePost
	for _, p := range w.posts {
		if st, _ := parseSoakText(p.AuthoredText); st.Run != run {
			out = append(out, p)
		}
	}
	return out
}
