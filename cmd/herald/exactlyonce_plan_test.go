package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// soakConfig is what one run of TestExactlyOnce does. Everything random in
// it, and in the plan drawn from it, comes from Seed, so a failing run is
// replayed with HERALD_SOAK_SEED (real time still decides the interleaving
// of the processes, so a replay makes the same plan, not the same run).
type soakConfig struct {
	Seed      uint64
	Duration  time.Duration // the firing window
	Schedules int
	Kills     int
	Edits     int
	ChaosRate float64
	// Dir, when set (HERALD_SOAK_DIR), keeps the database, the plan and
	// the logs there instead of in a temporary folder removed after.
	Dir string
}

// defaultSoakSeed keeps `make test` reproducible: the same plan on every run.
const defaultSoakSeed = 20260511

// soakConfigFromEnv reads HERALD_SOAK_SEED, HERALD_SOAK_DURATION,
// HERALD_SOAK_SCHEDULES, HERALD_SOAK_KILLS, HERALD_SOAK_EDITS,
// HERALD_SOAK_CHAOS_RATE and HERALD_SOAK_DIR. The defaults are sized for
// `make test` on a loaded 2-core machine; `make soak` sets longer ones.
func soakConfigFromEnv(t *testing.T) soakConfig {
	t.Helper()
	c := soakConfig{Seed: defaultSoakSeed, Duration: 35 * time.Second, Schedules: 10, Kills: 3, ChaosRate: 0.15, Dir: os.Getenv("HERALD_SOAK_DIR")}
	if v := os.Getenv("HERALD_SOAK_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("HERALD_SOAK_SEED=%q: want an unsigned integer", v)
		}
		c.Seed = n
	}
	if v := os.Getenv("HERALD_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 15*time.Second {
			t.Fatalf("HERALD_SOAK_DURATION=%q: want a Go duration of at least 15s", v)
		}
		c.Duration = d
	}
	ints := []struct {
		env string
		dst *int
		min int
	}{{"HERALD_SOAK_SCHEDULES", &c.Schedules, 1}, {"HERALD_SOAK_KILLS", &c.Kills, 0}, {"HERALD_SOAK_EDITS", &c.Edits, 0}}
	for _, f := range ints {
		if v := os.Getenv(f.env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < f.min || n > 500 {
				t.Fatalf("%s=%q: want an integer from %d to 500", f.env, v, f.min)
			}
			*f.dst = n
		}
	}
	if c.Edits == 0 && os.Getenv("HERALD_SOAK_EDITS") == "" {
		c.Edits = max(2, int(c.Duration/(12*time.Second)))
	}
	if v := os.Getenv("HERALD_SOAK_CHAOS_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r > 0.5 {
			t.Fatalf("HERALD_SOAK_CHAOS_RATE=%q: want a number from 0 to 0.5", v)
		}
		c.ChaosRate = r
	}
	return c
}

func (c soakConfig) String() string {
	return fmt.Sprintf("HERALD_SOAK_SEED=%d HERALD_SOAK_DURATION=%s HERALD_SOAK_SCHEDULES=%d HERALD_SOAK_KILLS=%d HERALD_SOAK_EDITS=%d HERALD_SOAK_CHAOS_RATE=%g",
		c.Seed, c.Duration, c.Schedules, c.Kills, c.Edits, c.ChaosRate)
}

// soakSchedule is one schedule of the plan, with an account of its own at
// the fake X (so X's per-user window of 100 posts per 15 minutes is each
// schedule's alone).
type soakSchedule struct {
	ID       string // s01, s02, ...
	Account  string // acct01, ...: the account in the YAML and the user at the fake
	Token    string
	Every    int // seconds between fires, a divisor of 60 or 60 (see cron)
	Replies  int // thread entries after the main post (0 to 2)
	Media    bool
	Deadline time.Duration // 0: none, retries bounded by max_attempts only
}

// cron fires every Every seconds, at the multiples of Every in the minute.
func (s soakSchedule) cron() string {
	if s.Every == 60 {
		return "0 * * * * *"
	}
	return fmt.Sprintf("*/%d * * * * *", s.Every)
}

// Posts is how many posts one fire makes.
func (s soakSchedule) Posts() int { return 1 + s.Replies }

// Text is the post's text number part (0 the main post, then the
// replies) as version v of the plan renders it for a job: unique per fire,
// so X's duplicate-content rule never fires for two jobs, and parseable
// back to the job (see parseSoakText).
func (s soakSchedule) Text(part int, run int64, planned time.Time, v int) string {
	if part == 0 {
		return fmt.Sprintf("%s #%d %s v%d", s.ID, run, planned.UTC().Format("15:04:05"), v)
	}
	return fmt.Sprintf("%s #%d reply %d v%d", s.ID, run, part, v)
}

// template is Text as a Go template of the YAML.
func (s soakSchedule) template(part, v int) string {
	if part == 0 {
		return fmt.Sprintf(`%s #{{ .Run }} {{ .Planned.Format "15:04:05" }} v%d`, s.ID, v)
	}
	return fmt.Sprintf(`%s #{{ .Run }} reply %d v%d`, s.ID, part, v)
}

// soakText is a post's text parsed back: which schedule, run, part and
// version wrote it.
type soakText struct {
	Schedule string
	Run      int64
	Part     int
	Version  int
}

// parseSoakText parses a text that Text made; ok is false for any other.
func parseSoakText(text string) (soakText, bool) {
	f := strings.Fields(text)
	if len(f) < 4 || !strings.HasPrefix(f[1], "#") || !strings.HasPrefix(f[len(f)-1], "v") {
		return soakText{}, false
	}
	var st soakText
	var err1, err2, err3 error
	st.Schedule = f[0]
	st.Run, err1 = strconv.ParseInt(f[1][1:], 10, 64)
	st.Version, err2 = strconv.Atoi(f[len(f)-1][1:])
	switch {
	case len(f) == 4: // s01 #7 12:00:03 v2
	case len(f) == 5 && f[2] == "reply":
		st.Part, err3 = strconv.Atoi(f[3])
	default:
		return soakText{}, false
	}
	if err1 != nil || err2 != nil || err3 != nil {
		return soakText{}, false
	}
	return st, true
}

// soakAction is one step of the timeline, at At after the start.
type soakAction struct {
	At       time.Duration
	Kill     bool          // SIGKILL the node...
	Downtime time.Duration // ...and start it again this much later
	Bump     []int         // or: edit the texts of these schedules (indexes)
}

// soakPlan is the seeded layout and timeline of one run.
type soakPlan struct {
	Schedules []soakSchedule
	Actions   []soakAction // in time order
}

// createsBudget is how many create requests one account may send in X's
// 15-minute window, fires and retries together, with room to spare: the
// fake and Herald both allow 100, and a deferral would stall the drain for
// the rest of the window.
const createsBudget = 70

func newSoakPlan(c soakConfig) (soakPlan, error) {
	rng := rand.New(rand.NewPCG(c.Seed, c.Seed^0x5eed))
	var p soakPlan
	window := min(c.Duration, 15*time.Minute) // X's windows are 15 minutes
	for i := range c.Schedules {
		s := soakSchedule{
			ID:      fmt.Sprintf("s%02d", i+1),
			Account: fmt.Sprintf("acct%02d", i+1),
			Token:   fmt.Sprintf("soak-token-%02d", i+1),
			Replies: []int{0, 0, 1, 2}[rng.IntN(4)],
			Media:   rng.IntN(5) == 0,
		}
		if rng.IntN(2) == 0 {
			s.Deadline = time.Duration(20+rng.IntN(21)) * time.Second
		}
		// The fastest cadence (a divisor of 60, so the cron is exact) that
		// keeps the account within its budget, retries included; a long
		// run drops threads to fit.
		for {
			s.Every = fastestWithin(window, s.Posts(), c)
			if s.Every > 0 || s.Replies == 0 {
				break
			}
			s.Replies--
		}
		if s.Every == 0 {
			return p, fmt.Errorf("%d kills in %s do not fit in X's limit of 100 posts per account per 15 minutes; use fewer kills", c.Kills, window)
		}
		p.Schedules = append(p.Schedules, s)
	}
	// Kills and edits fall between 15% and 85% of the window, so the node
	// has fired before the first and recovers after the last.
	at := func() time.Duration {
		return c.Duration*15/100 + time.Duration(rng.Int64N(int64(c.Duration*70/100)))
	}
	for range c.Kills {
		p.Actions = append(p.Actions, soakAction{At: at(), Kill: true, Downtime: 300*time.Millisecond + time.Duration(rng.Int64N(int64(2200*time.Millisecond)))})
	}
	for range c.Edits {
		a := soakAction{At: at()}
		for i := range p.Schedules {
			if rng.IntN(2) == 0 {
				a.Bump = append(a.Bump, i)
			}
		}
		if len(a.Bump) == 0 {
			a.Bump = []int{rng.IntN(len(p.Schedules))}
		}
		p.Actions = append(p.Actions, a)
	}
	slices.SortStableFunc(p.Actions, func(a, b soakAction) int { return int(a.At - b.At) })
	return p, nil
}

// fastestWithin is the shortest cadence, in seconds (a divisor of 60, or
// 60, so that the cron is exact), at which a schedule making posts posts
// a fire stays within createsBudget over window; 0 if none does. Each post
// is counted 1+3×rate times for the retries of faults, and a kill sends
// again the posts of a fire in flight, which one is for at most about 3
// seconds of every cadence.
func fastestWithin(window time.Duration, posts int, c soakConfig) int {
	perFire := float64(posts) * (1 + 3*c.ChaosRate)
	for _, every := range []int{1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60} {
		perKill := float64(posts) * min(1, 3/float64(every))
		if window.Seconds()/float64(every)*perFire+perKill*float64(c.Kills) <= createsBudget {
			return every
		}
	}
	return 0
}

// yaml renders the plan with each schedule at its version (versions[i]),
// all enabled or all disabled.
func (p soakPlan) yaml(versions []int, enabled bool) string {
	var b strings.Builder
	b.WriteString("accounts:\n")
	for _, s := range p.Schedules {
		fmt.Fprintf(&b, "  %s:\n    platform: x\n    oauth2: {access_token: env:X_%s_TOKEN}\n", s.Account, strings.ToUpper(s.Account))
	}
	b.WriteString("schedules:\n")
	for i, s := range p.Schedules {
		fmt.Fprintf(&b, "  - id: %s\n    account: %s\n    cron: %q\n    enabled: %t\n", s.ID, s.Account, s.cron(), enabled)
		if s.Deadline > 0 {
			fmt.Fprintf(&b, "    deadline: %s\n", s.Deadline)
		}
		fmt.Fprintf(&b, "    post:\n      text: %q\n", s.template(0, versions[i]))
		if s.Replies > 0 {
			var replies []string
			for part := 1; part <= s.Replies; part++ {
				replies = append(replies, strconv.Quote(s.template(part, versions[i])))
			}
			fmt.Fprintf(&b, "      thread: [%s]\n", strings.Join(replies, ", "))
		}
		if s.Media {
			b.WriteString("      media: [{path: dot.png, alt: \"a red dot\"}]\n")
		}
	}
	return b.String()
}

// env is the environment giving herald serve every account's token.
func (p soakPlan) env() []string {
	var env []string
	for _, s := range p.Schedules {
		env = append(env, "X_"+strings.ToUpper(s.Account)+"_TOKEN="+s.Token)
	}
	return env
}

// fakeUsers are the --user flags registering every account at the fake,
// each with a client id of its own: X's per-app window (10,000 posts a
// day) then binds no account but its own, and a long run fits.
func (p soakPlan) fakeUsers() []string {
	var args []string
	for _, s := range p.Schedules {
		args = append(args, "--user", s.Account+":"+s.Token+"::client-"+s.Account)
	}
	return args
}

// describe is the plan in a few lines, for the log of the run.
func (p soakPlan) describe() string {
	var b strings.Builder
	for _, s := range p.Schedules {
		fmt.Fprintf(&b, "  %s every %ds, %d post(s)", s.ID, s.Every, s.Posts())
		if s.Media {
			b.WriteString(", media")
		}
		if s.Deadline > 0 {
			fmt.Fprintf(&b, ", deadline %s", s.Deadline)
		}
		b.WriteString("\n")
	}
	for _, a := range p.Actions {
		if a.Kill {
			fmt.Fprintf(&b, "  at %6.2fs: kill -9, down %.2fs\n", a.At.Seconds(), a.Downtime.Seconds())
		} else {
			fmt.Fprintf(&b, "  at %6.2fs: edit the texts of %d schedule(s)\n", a.At.Seconds(), len(a.Bump))
		}
	}
	return b.String()
}
