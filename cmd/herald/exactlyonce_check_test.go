package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/open"
)

// reloadSlack is how long after a node logs a reload a fire may still be
// recorded with the text from before it: the fire was taken, and its post
// rendered, before the reload reached the schedule, and then waited in a
// batch for the store.
const reloadSlack = 3 * time.Second

// soakFindings collects what breaks the promise: per job, and for the run
// as a whole.
type soakFindings struct {
	general []string
	byJob   map[int64][]string
}

func (f *soakFindings) job(id int64, format string, args ...any) {
	f.byJob[id] = append(f.byJob[id], fmt.Sprintf(format, args...))
}

func (f *soakFindings) add(format string, args ...any) {
	f.general = append(f.general, fmt.Sprintf(format, args...))
}

type fireKey struct {
	schedule string
	run      int64
}

// checkExactlyOnce holds the jobs of the store and the posts at the fake X
// to the promise:
//
//   - every planned instant of every schedule between its first and last
//     recorded fire has a job (catch-up records the fires missed while the
//     node was down, as missed but for the newest), the first fire follows
//     the first start and the last precedes the write that disabled them;
//   - every job is final: succeeded, dead with a reason, or missed;
//   - a job's frozen texts are its own fire's (schedule, run, planned
//     instant) in the version of the YAML the node ran when the fire was
//     recorded, never a version written later;
//   - a succeeded job's post ids are at X, once each, with its frozen
//     texts, by its account, each reply answering the post before;
//   - a dead or missed job has no post at X (one deleted since does not
//     count: taking a post back is a way out);
//   - every post at X is one job's, and no text is posted twice.
func checkExactlyOnce(t *testing.T, r *soakRun, jobs []store.Job, posts []fakePost) {
	t.Helper()
	f := findBreaks(r, jobs, posts)
	if len(f.general) == 0 && len(f.byJob) == 0 {
		return
	}
	t.Error(soakReport(r, f, jobs, posts))
}

// findBreaks makes the checks of checkExactlyOnce.
func findBreaks(r *soakRun, jobs []store.Job, posts []fakePost) *soakFindings {
	f := &soakFindings{byJob: map[int64][]string{}}
	sched := map[string]soakSchedule{}
	for _, s := range r.plan.Schedules {
		sched[s.ID] = s
	}
	byFire := map[fireKey]*store.Job{}
	for i := range jobs {
		j := &jobs[i]
		s, ok := sched[j.ScheduleID]
		if !ok {
			f.job(j.ID, "a job of schedule %q, which the plan does not have", j.ScheduleID)
			continue
		}
		if prev := byFire[fireKey{j.ScheduleID, j.Run}]; prev != nil {
			f.job(j.ID, "run %d of %s again (job %d has it too)", j.Run, j.ScheduleID, prev.ID)
		}
		byFire[fireKey{j.ScheduleID, j.Run}] = j
		checkJobState(f, r, s, j)
	}
	checkFireCoverage(f, r, jobs)
	checkPosts(f, r, sched, byFire, posts)
	checkLogs(f, r)
	return f
}

// checkJobState checks a job's status, reason and frozen texts.
func checkJobState(f *soakFindings, r *soakRun, s soakSchedule, j *store.Job) {
	switch j.Status {
	case store.StatusSucceeded:
		if j.DeadReason != "" {
			f.job(j.ID, "succeeded with a dead reason %q", j.DeadReason)
		}
	case store.StatusDead:
		if j.DeadReason == "" {
			f.job(j.ID, "dead without a reason (last error %q)", j.LastError)
		}
	case store.StatusMissed:
		return // never frozen, never published: checkPosts looks for posts
	default:
		f.job(j.ID, "left %s", j.Status)
	}
	if j.Trigger == store.TriggerManual {
		f.job(j.ID, "a manual job, which nobody triggered")
	}
	if j.Post == nil {
		if j.Status == store.StatusSucceeded {
			f.job(j.ID, "succeeded without a frozen post")
		}
		return
	}
	if len(j.Post.Texts) != s.Posts() {
		f.job(j.ID, "frozen with %d texts, the schedule makes %d", len(j.Post.Texts), s.Posts())
		return
	}
	if j.Post.Account != s.Account {
		f.job(j.ID, "frozen for account %q, the schedule's is %q", j.Post.Account, s.Account)
	}
	if s.Media && len(j.Post.Media) != 1 {
		f.job(j.ID, "frozen with %d media, the schedule has 1", len(j.Post.Media))
	}
	st, ok := parseSoakText(j.Post.Texts[0])
	if !ok {
		f.job(j.ID, "frozen text %q is no text of the plan", j.Post.Texts[0])
		return
	}
	for part := range j.Post.Texts {
		if want := s.Text(part, j.Run, j.PlannedAt, st.Version); j.Post.Texts[part] != want {
			f.job(j.ID, "frozen text %d is %q, its fire (run %d, planned %s) at v%d renders %q",
				part, j.Post.Texts[part], j.Run, j.PlannedAt.Format(time.RFC3339), st.Version, want)
		}
	}
	lo, hi := r.versionBounds(s, j.CreatedAt)
	switch {
	case st.Version > hi:
		f.job(j.ID, "frozen at v%d, written after the job was recorded (%s; the file then had v%d): its text was rendered again later",
			st.Version, j.CreatedAt.Format("15:04:05.000"), hi)
	case st.Version < lo:
		f.job(j.ID, "frozen at v%d, but recorded at %s, more than %s after the node ran v%d",
			st.Version, j.CreatedAt.Format("15:04:05.000"), reloadSlack, lo)
	}
}

// versionBounds are the text versions of schedule s a job recorded at c
// may carry: at most the version in the file at c, at least the version
// some node had been running for reloadSlack.
func (r *soakRun) versionBounds(s soakSchedule, c time.Time) (lo, hi int) {
	i := slices.IndexFunc(r.plan.Schedules, func(x soakSchedule) bool { return x.ID == s.ID })
	lo, hi = 1, 1
	for _, w := range r.writes {
		if !w.At.After(c) {
			hi = w.Versions[i]
		}
		if a := r.applied(w); !a.IsZero() && a.Add(reloadSlack).Before(c) {
			lo = max(lo, w.Versions[i])
		}
	}
	return lo, hi
}

// checkFireCoverage: each schedule's fires are every planned instant from
// its first to its last, without a gap, and the window is the run's.
func checkFireCoverage(f *soakFindings, r *soakRun, jobs []store.Job) {
	stopApplied := r.applied(r.stopped)
	for _, s := range r.plan.Schedules {
		var fires []store.Job
		for _, j := range jobs {
			if j.ScheduleID == s.ID && j.Trigger != store.TriggerManual {
				fires = append(fires, j)
			}
		}
		every := time.Duration(s.Every) * time.Second
		if len(fires) == 0 {
			f.add("%s: no job at all", s.ID)
			continue
		}
		slices.SortFunc(fires, func(a, b store.Job) int { return a.PlannedAt.Compare(b.PlannedAt) })
		for i, j := range fires {
			if !j.PlannedAt.Equal(j.PlannedAt.Truncate(every)) || j.PlannedAt.Unix()%int64(s.Every) != 0 {
				f.job(j.ID, "planned at %s, not a multiple of %d seconds", j.PlannedAt.Format(time.RFC3339Nano), s.Every)
			}
			if i == 0 {
				continue
			}
			prev := fires[i-1]
			switch gap := j.PlannedAt.Sub(prev.PlannedAt); {
			case gap > every:
				f.add("%s: no job for the %d fire(s) planned between %s (job %d) and %s (job %d)", s.ID,
					int(gap/every)-1, prev.PlannedAt.Format("15:04:05"), prev.ID, j.PlannedAt.Format("15:04:05"), j.ID)
			case gap < every:
				f.add("%s: jobs %d and %d are planned %s apart", s.ID, prev.ID, j.ID, gap)
			}
		}
		first, last := fires[0], fires[len(fires)-1]
		if first.PlannedAt.After(r.started.Add(every + 2*time.Second)) {
			f.add("%s: its first job (%d) is planned at %s, the node started at %s", s.ID, first.ID,
				first.PlannedAt.Format("15:04:05"), r.started.Format("15:04:05.000"))
		}
		if last.PlannedAt.Before(r.stopped.At.Add(-every - 2*time.Second)) {
			f.add("%s: its last job (%d) is planned at %s, yet it kept firing until %s", s.ID, last.ID,
				last.PlannedAt.Format("15:04:05"), r.stopped.At.Format("15:04:05.000"))
		}
		if !stopApplied.IsZero() && last.PlannedAt.After(stopApplied.Add(time.Second)) {
			f.job(last.ID, "planned at %s, after the node disabled %s at %s", last.PlannedAt.Format("15:04:05"),
				s.ID, stopApplied.Format("15:04:05.000"))
		}
	}
}

// checkPosts matches the posts at X with the jobs.
func checkPosts(f *soakFindings, r *soakRun, sched map[string]soakSchedule, byFire map[fireKey]*store.Job, posts []fakePost) {
	byID := map[string]fakePost{}
	byText := map[string][]fakePost{}
	atX := map[fireKey][]fakePost{}
	for _, p := range posts {
		byID[p.ID] = p
		byText[p.AuthoredText] = append(byText[p.AuthoredText], p)
		st, ok := parseSoakText(p.AuthoredText)
		if !ok {
			f.add("post %s at X is no text of the plan: %q", p.ID, p.AuthoredText)
			continue
		}
		k := fireKey{st.Schedule, st.Run}
		atX[k] = append(atX[k], p)
		if byFire[k] == nil {
			f.add("post %s at X (%q) is of %s run %d, which has no job", p.ID, p.AuthoredText, st.Schedule, st.Run)
		}
	}
	for _, text := range slices.Sorted(maps.Keys(byText)) {
		if ps := byText[text]; len(ps) > 1 {
			ids := make([]string, len(ps))
			for i, p := range ps {
				ids[i] = p.ID
			}
			st, _ := parseSoakText(text)
			if j := byFire[fireKey{st.Schedule, st.Run}]; j != nil {
				f.job(j.ID, "%q posted %d times at X: %v", text, len(ps), ids)
			} else {
				f.add("%q posted %d times at X: %v", text, len(ps), ids)
			}
		}
	}
	for k, j := range byFire {
		found := atX[k]
		if slices.Contains(inFlight, j.Status) {
			continue // reported as left in flight; its posts are in the report
		}
		if j.Status != store.StatusSucceeded {
			for _, p := range found {
				if !p.Deleted { // a post taken back is not at X
					f.job(j.ID, "%s, yet post %s at X carries its text %q", j.Status, p.ID, p.AuthoredText)
				}
			}
			continue
		}
		s := sched[j.ScheduleID]
		if j.Post == nil || len(j.Post.Texts) != s.Posts() {
			continue // reported by checkJobState
		}
		if len(j.PostIDs) != len(j.Post.Texts) {
			f.job(j.ID, "succeeded with %d post ids for %d texts", len(j.PostIDs), len(j.Post.Texts))
		}
		author := userID(s.Account)
		for i, id := range j.PostIDs {
			p, ok := byID[id]
			switch {
			case !ok:
				f.job(j.ID, "post id %s (part %d) is not at X", id, i)
				continue
			case p.Deleted:
				f.job(j.ID, "post %s (part %d) was deleted at X", id, i)
			}
			if i < len(j.Post.Texts) && p.AuthoredText != j.Post.Texts[i] {
				f.job(j.ID, "post %s (part %d) at X says %q, the frozen text is %q", id, i, p.AuthoredText, j.Post.Texts[i])
			}
			if p.AuthorID != author {
				f.job(j.ID, "post %s was posted by user %s, the account's is %s", id, p.AuthorID, author)
			}
			switch {
			case i == 0 && p.ReplyTo != "":
				f.job(j.ID, "its main post %s replies to %s", id, p.ReplyTo)
			case i > 0 && p.ReplyTo != j.PostIDs[i-1]:
				f.job(j.ID, "reply %s (part %d) answers %q, not the post before, %s", id, i, p.ReplyTo, j.PostIDs[i-1])
			}
			if i == 0 && s.Media && len(p.MediaIDs) != 1 {
				f.job(j.ID, "main post %s carries %d media at X, want 1", id, len(p.MediaIDs))
			}
		}
		for _, p := range found {
			if !slices.Contains(j.PostIDs, p.ID) {
				f.job(j.ID, "post %s at X (%q) carries its text but is not among its post ids %v", p.ID, p.AuthoredText, j.PostIDs)
			}
		}
	}
}

// checkLogs looks for what a node must never print: a panic, or a line
// that is not JSON (the runtime's fatal errors are not).
func checkLogs(f *soakFindings, r *soakRun) {
	for _, n := range r.nodes {
		file, err := os.Open(n.logPath)
		if err != nil {
			f.add("reading %s: %v", n.logPath, err)
			continue
		}
		sc := bufio.NewScanner(file)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		bad := 0
		for sc.Scan() {
			line := sc.Text()
			if !json.Valid([]byte(line)) || strings.Contains(line, "panicked") {
				if bad++; bad <= 5 {
					f.add("serve #%d printed: %s", n.n, line)
				}
			}
		}
		file.Close()
	}
}

// soakReport is the failure report: the run's findings, then one block per
// job with what it is, what X has of it, its events and its log lines.
func soakReport(r *soakRun, f *soakFindings, jobs []store.Job, posts []fakePost) string {
	var b strings.Builder
	fmt.Fprintf(&b, "the promise is broken (replay: %s; folder %s)\n", r.cfg, r.dir)
	for _, g := range f.general {
		fmt.Fprintf(&b, "  %s\n", g)
	}
	atX := map[fireKey][]fakePost{}
	for _, p := range posts {
		if st, ok := parseSoakText(p.AuthoredText); ok {
			atX[fireKey{st.Schedule, st.Run}] = append(atX[fireKey{st.Schedule, st.Run}], p)
		}
	}
	byID := map[int64]store.Job{}
	for _, j := range jobs {
		byID[j.ID] = j
	}
	s := openDBQuiet(r.db)
	if s != nil {
		defer s.Close()
	}
	ids := findingKinds(&b, f)
	fmt.Fprintf(&b, "%d job(s) break it, an example of each kind first:\n", len(ids))
	for n, id := range ids {
		if n == 30 {
			fmt.Fprintf(&b, "... and %d more\n", len(ids)-n)
			break
		}
		j := byID[id]
		var texts []string
		if j.Post != nil {
			texts = j.Post.Texts
		}
		fmt.Fprintf(&b, "job %d %s run %d planned %s created %s %s: %s", j.ID, j.ScheduleID, j.Run, j.PlannedAt.Format("15:04:05"),
			j.CreatedAt.Format("15:04:05.000"), j.Trigger, j.Status)
		if j.DeadReason != "" {
			fmt.Fprintf(&b, " (%s)", j.DeadReason)
		}
		fmt.Fprintf(&b, ", attempt %d, failures %d\n    texts %q, post ids %v, last error %q\n", j.Attempt, j.Failures, texts, j.PostIDs, j.LastError)
		for _, p := range atX[fireKey{j.ScheduleID, j.Run}] {
			fmt.Fprintf(&b, "    at X: %s %q reply_to=%q created %s\n", p.ID, p.AuthoredText, p.ReplyTo, p.CreatedAt.Format("15:04:05.000"))
		}
		for _, problem := range f.byJob[id] {
			fmt.Fprintf(&b, "    ! %s\n", problem)
		}
		if n >= 8 {
			continue // events and logs for the first few only
		}
		if s != nil {
			if events, err := s.JobEvents(context.Background(), id); err == nil {
				for _, e := range events {
					fmt.Fprintf(&b, "    event %s %s->%s node %s attempt %d %q\n", e.At.Format("15:04:05.000"), e.From, e.To, e.Node, e.Attempt, e.Detail)
				}
			}
		}
		for _, l := range grepFiles(r.logPaths(), 12, fmt.Sprintf(`"job_id":%d,`, id)) {
			fmt.Fprintf(&b, "    log %s\n", l)
		}
	}
	return b.String()
}

// findingKinds writes how many jobs break the promise in each way (a
// finding with its numbers and quotes blanked), and returns the jobs' ids:
// the first job of each kind, then the others.
func findingKinds(b *strings.Builder, f *soakFindings) []int64 {
	blank := regexp.MustCompile(`"[^"]*"|[0-9][0-9:.TZ-]*`)
	count := map[string]int{}
	first := map[string]int64{}
	ids := slices.Sorted(maps.Keys(f.byJob))
	for _, id := range ids {
		for _, finding := range f.byJob[id] {
			k := blank.ReplaceAllString(finding, "_")
			if count[k]++; count[k] == 1 {
				first[k] = id
			}
		}
	}
	kinds := slices.SortedFunc(maps.Keys(count), func(a, b string) int { return count[b] - count[a] })
	var out []int64
	for _, k := range kinds {
		fmt.Fprintf(b, "  %5d× %s (e.g. job %d)\n", count[k], k, first[k])
		if !slices.Contains(out, first[k]) {
			out = append(out, first[k])
		}
	}
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// openDBQuiet opens the store for the report, which must not fail the
// test a second time: nil if it cannot.
func openDBQuiet(db string) store.Store {
	s, err := open.Open(context.Background(), db, open.Options{})
	if err != nil {
		return nil
	}
	return s
}

// soakStats summarizes a run: jobs by status and dead reason, posts, and
// the faults the fake injected.
func soakStats(jobs []store.Job, posts []fakePost, requests []fakeRequest) string {
	status, reasons, faults := map[string]int{}, map[string]int{}, map[string]int{}
	for _, j := range jobs {
		status[string(j.Status)]++
		if j.DeadReason != "" {
			reasons[j.DeadReason]++
		}
	}
	for _, q := range requests {
		switch {
		case q.Chaos != "":
			faults[q.Chaos]++
		case q.Fault:
			faults["injected"]++
		}
	}
	return fmt.Sprintf("%d jobs %v, dead reasons %v, %d posts at X, %d requests to X with faults %v",
		len(jobs), status, reasons, len(posts), len(requests), faults)
}
