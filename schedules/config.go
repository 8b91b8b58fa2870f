package schedules

import (
	"sort"
	"strconv"
	"time"

	"github.com/herald-social/herald/schedules/spec"
)

// Config is one validated snapshot of the posting plan. It is immutable
// once returned by Load and safe to share between goroutines.
type Config struct {
	// Revision identifies the content: the first 16 hex digits of a SHA-256
	// over every loaded file's relative path and bytes. Two nodes with the
	// same files report the same revision wherever their checkout lives.
	Revision string
	// Commit is the git commit checked out at the first path, when that
	// path is inside a git work tree, else empty.
	Commit    string
	Accounts  map[string]*Account
	Schedules []*Schedule // sorted by ID
	Files     []string    // the files loaded, sorted, as reached from the paths given
	// Warnings lists what loads but will probably fail when published,
	// sorted like Diagnostics, each with Warning set; nil when there is
	// none. A warning never rejects a configuration; only a Config that
	// loads has them (Load's Diagnostics error holds errors only). So far
	// there is one kind: a text of a recurring (cron or rrule) schedule
	// that renders the same at successive fires, which X refuses from the
	// second fire on as duplicate content (see repeat.go).
	Warnings []Diagnostic
}

// Schedule returns the schedule with the given id, or nil.
func (c *Config) Schedule(id string) *Schedule {
	i := sort.Search(len(c.Schedules), func(i int) bool { return c.Schedules[i].ID >= id })
	if i < len(c.Schedules) && c.Schedules[i].ID == id {
		return c.Schedules[i]
	}
	return nil
}

// Pos is a position in a YAML file; Line and Col are 1-based.
type Pos struct {
	File      string
	Line, Col int
}

// String formats p as FILE:LINE:COL.
func (p Pos) String() string {
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// Account is a named publishing identity. Credentials are references (see
// SecretRef) that the publisher resolves when it needs them; Load never reads
// a secret, so `herald validate` runs in CI without any.
type Account struct {
	Name     string
	Platform string // "x", the only platform so far
	// OAuth2 and OAuth1 are nil when absent. An account with neither
	// publishes in dry-run.
	OAuth2 *OAuth2
	OAuth1 *OAuth1
	// Limits names the rate-limit preset: current (the default),
	// legacy-free, legacy-basic or legacy-pro.
	Limits string
	// LimitWindows are the windows written under limits.windows, in file
	// order. Each replaces the preset's windows for its endpoint and scope
	// (all windows given for one pair together replace the preset's for
	// it); nil when the account uses the preset as it is.
	LimitWindows []LimitWindow
	Source       Pos // the account's name key
}

// LimitWindow is one rate-limit window an account states explicitly: at
// most Limit requests to Endpoint in any interval of length Per, counted
// per account (Scope "user") or per app (Scope "app", shared by every
// account of the same client id or consumer key).
type LimitWindow struct {
	Endpoint string // one of LimitEndpoints
	Scope    string // "user" or "app"
	Limit    int
	Per      time.Duration
	Source   Pos // the window's item in its file
}

// OAuth2 holds references to an X OAuth 2.0 user context. Only AccessToken
// is required; refreshing needs RefreshToken and ClientID (and ClientSecret
// for a confidential client).
type OAuth2 struct {
	AccessToken, RefreshToken, ClientID, ClientSecret SecretRef
}

// OAuth1 holds references to an X OAuth 1.0a user context; all four are
// required.
type OAuth1 struct {
	ConsumerKey, ConsumerSecret, AccessToken, AccessTokenSecret SecretRef
}

// SecretRef says where a secret lives, never what it is: env:NAME (an
// environment variable) or file:/absolute/path (a mounted secret file).
// The zero value means "not set".
type SecretRef struct {
	Scheme string // "env" or "file"
	Name   string // the variable name or the absolute path
}

// IsZero reports whether r is unset.
func (r SecretRef) IsZero() bool { return r.Scheme == "" }

// String formats r as it is written in YAML.
func (r SecretRef) String() string {
	if r.IsZero() {
		return ""
	}
	return r.Scheme + ":" + r.Name
}

// Kind is the timing kind of a schedule.
type Kind uint8

// The schedule kinds; the zero Kind is invalid.
const (
	KindCron Kind = iota + 1
	KindRRule
	KindAt
)

// String returns the YAML key of the kind: cron, rrule or at.
func (k Kind) String() string {
	switch k {
	case KindCron:
		return "cron"
	case KindRRule:
		return "rrule"
	case KindAt:
		return "at"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// DefaultDeadline is the deadline of a schedule that leaves it out, unless
// its catch-up window plus jitter is longer (see Schedule.Deadline), so
// that a post held up by an outage, a backlog or rate limits expires
// instead of going out hours late.
const DefaultDeadline = time.Hour

// Schedule is one validated schedule. It is kept small because a node may
// load a million of them: the post template is stored as text and parsed
// when rendered, and equal time zones share one *time.Location.
type Schedule struct {
	ID       string
	Account  string
	Kind     Kind
	Expr     string // the cron expression, RRULE or at value as written
	Timezone string // IANA name; "UTC" by default
	Location *time.Location
	Jitter   time.Duration // fires are delayed by a deterministic [0, Jitter)
	Catchup  time.Duration // how late a missed fire may still be published
	// Deadline bounds how late after its planned instant a fire's post may
	// still go out, retries included: an attempt that would start later is
	// not made and the job goes dead as expired. A schedule that leaves
	// `deadline` out gets DefaultDeadline, or Catchup+Jitter when that is
	// longer (a fire caught up at the end of its window must still be
	// publishable). Zero means no deadline, written `deadline: none`.
	Deadline time.Duration
	// MaxAttempts is how many failed attempts make a job dead (1 to 100,
	// default 5). Waiting for a rate-limit window is not an attempt.
	MaxAttempts int
	Enabled     bool
	// Start and End bound the planned fires to [Start, End) in local wall
	// time; zero is open. For an rrule Start is its DTSTART.
	Start, End spec.Civil
	Post       Post
	Metrics    []time.Duration // capture stages after publishing, increasing
	Source     Pos             // the schedule's item in its file
	Spec       spec.Spec       // compiled timing
	// Hash changes exactly when something that affects behaviour changes
	// (see hash.go); reloads diff schedules by it. Moving a schedule within
	// or between files does not change it.
	Hash string
}

// Post is what a schedule publishes.
type Post struct {
	Text   string   // a text/template, see RenderData
	Media  []Media  // attached to the first post
	Thread []string // templates of the replies, in order
}

// Media is one file attached to a post.
type Media struct {
	// Path is absolute: the YAML path resolved against the folder of the
	// file that declares it, so it stays valid whatever the working
	// directory of the process.
	Path string
	Alt  string // alt text, at most 1000 characters
	// Root is the plan's folder the file must stay under, symbolic links
	// resolved (see ResolveWithin): the folder given to Load that led to
	// the YAML file, or the file's own folder when a file was given. A
	// publisher checks again when it opens the file.
	Root string
}

// Fire is one planned fire of a schedule and the instant it actually fires.
type Fire struct {
	Planned time.Time // the instant the timing names; identifies the fire
	At      time.Time // Planned plus the schedule's deterministic jitter
}

// NextFire returns the first fire planned strictly after the instant after,
// and false when the schedule never fires again. It does not consult
// Enabled: callers decide what a disabled schedule means.
func (s *Schedule) NextFire(after time.Time) (Fire, bool) {
	p, ok := s.Spec.Next(after)
	if !ok {
		return Fire{}, false
	}
	return Fire{Planned: p, At: p.Add(spec.Jitter(s.ID, p, s.Jitter))}, true
}
