package fakex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"slices"
	"time"
)

// The control plane under /_fake/ lets a test or a demo that runs the fake
// in another process do what the Go API does. It needs no
// authentication: the fake is never exposed beyond a test machine.
func (s *Server) controlRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /_fake/posts", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Posts())
	})
	m.HandleFunc("GET /_fake/requests", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Requests())
	})
	m.HandleFunc("GET /_fake/faults", func(w http.ResponseWriter, r *http.Request) {
		out := []faultJSON{}
		for _, f := range s.Faults() {
			out = append(out, toFaultJSON(f))
		}
		writeJSON(w, http.StatusOK, out)
	})
	m.HandleFunc("POST /_fake/faults", s.postFault)
	m.HandleFunc("DELETE /_fake/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("GET /_fake/chaos", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, toChaosJSON(s.Chaos()))
	})
	m.HandleFunc("PUT /_fake/chaos", s.putChaos)
	m.HandleFunc("DELETE /_fake/chaos", func(w http.ResponseWriter, r *http.Request) {
		s.SetChaos(Chaos{})
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("POST /_fake/users", s.postUser)
	m.HandleFunc("POST /_fake/metrics", s.postMetrics)
	m.HandleFunc("GET /{$}", s.page)
}

// controlError answers a control-plane mistake.
func controlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// decodeControl decodes a control-plane body strictly: a typo in a fault
// must not silently inject a different one.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := decodeStrict(http.MaxBytesReader(w, r.Body, maxJSONBody), v); err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return false
	}
	return true
}

func decodeStrict(rd io.Reader, v any) error {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decoding the body: %w", err)
	}
	return nil
}

// faultJSON is a Fault as the control plane takes and shows it: latency
// as a Go duration ("1.5s").
type faultJSON struct {
	Fault
	Latency string `json:"latency,omitempty"`
}

func toFaultJSON(f Fault) faultJSON {
	out := faultJSON{Fault: f}
	if f.Latency > 0 {
		out.Latency = f.Latency.String()
	}
	return out
}

// ParseFault reads a fault as POST /_fake/faults and `herald fake-x
// --fault` take it: a JSON object with Fault's members, latency as a Go
// duration ("1.5s") and times in RFC 3339. Unknown members are refused,
// and so is a fault that Validate refuses.
func ParseFault(data []byte) (Fault, error) {
	f, err := parseFault(bytes.NewReader(data))
	if err != nil {
		return Fault{}, fmt.Errorf("fault %s: %w", data, err)
	}
	return f, nil
}

func parseFault(rd io.Reader) (Fault, error) {
	var f faultJSON
	if err := decodeStrict(rd, &f); err != nil {
		return Fault{}, err
	}
	if f.Latency != "" {
		d, err := time.ParseDuration(f.Latency)
		if err != nil || d < 0 {
			return Fault{}, fmt.Errorf("%w: latency %s: want a Go duration such as 1.5s", errBadFault, f.Latency)
		}
		f.Fault.Latency = d
	}
	if err := f.Fault.Validate(); err != nil {
		return Fault{}, err
	}
	return f.Fault, nil
}

func (s *Server) postFault(w http.ResponseWriter, r *http.Request) {
	f, err := parseFault(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.Inject(f)
	w.WriteHeader(http.StatusNoContent)
}

// chaosJSON is a Chaos as the control plane takes and shows it: hang and
// reset as Go durations.
type chaosJSON struct {
	Rate      float64     `json:"rate"`
	Seed      uint64      `json:"seed"`
	Kinds     []ChaosKind `json:"kinds,omitempty"`
	Endpoints []string    `json:"endpoints,omitempty"`
	Hang      string      `json:"hang,omitempty"`
	Reset     string      `json:"reset,omitempty"`
}

func toChaosJSON(c Chaos) chaosJSON {
	return chaosJSON{Rate: c.Rate, Seed: c.Seed, Kinds: c.Kinds, Endpoints: c.Endpoints, Hang: c.Hang.String(), Reset: c.Reset.String()}
}

// putChaos replaces the chaos configuration (and reseeds it).
func (s *Server) putChaos(w http.ResponseWriter, r *http.Request) {
	var cj chaosJSON
	if !decodeControl(w, r, &cj) {
		return
	}
	c := Chaos{Rate: cj.Rate, Seed: cj.Seed, Kinds: cj.Kinds, Endpoints: cj.Endpoints}
	for _, d := range []struct {
		name, v string
		out     *time.Duration
	}{{"hang", cj.Hang, &c.Hang}, {"reset", cj.Reset, &c.Reset}} {
		if d.v == "" {
			continue
		}
		v, err := time.ParseDuration(d.v)
		if err != nil {
			controlError(w, http.StatusBadRequest, d.name+" "+d.v+": want a Go duration such as 3s")
			return
		}
		*d.out = v
	}
	if err := c.Validate(); err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.SetChaos(c)
	writeJSON(w, http.StatusOK, toChaosJSON(s.Chaos()))
}

// userJSON is a User as the control plane takes it.
type userJSON struct {
	ID             string `json:"id"`
	Username       string `json:"username"`
	Name           string `json:"name"`
	AccessToken    string `json:"access_token"`
	RefreshToken   string `json:"refresh_token"`
	ClientID       string `json:"client_id"`
	ClientSecret   string `json:"client_secret"`
	ConsumerKey    string `json:"consumer_key"`
	ConsumerSecret string `json:"consumer_secret"`
	TokenSecret    string `json:"token_secret"`
	TokenTTL       string `json:"token_ttl"` // Go duration; "-1s" never expires
}

func (s *Server) postUser(w http.ResponseWriter, r *http.Request) {
	var u userJSON
	if !decodeControl(w, r, &u) {
		return
	}
	if u.ID != "" && !idPattern.MatchString(u.ID) {
		controlError(w, http.StatusBadRequest, "id "+u.ID+": want a numeric id")
		return
	}
	var ttl time.Duration
	if u.TokenTTL != "" {
		d, err := time.ParseDuration(u.TokenTTL)
		if err != nil {
			controlError(w, http.StatusBadRequest, "token_ttl "+u.TokenTTL+": want a Go duration")
			return
		}
		ttl = d
	}
	user := User{ID: u.ID, Username: u.Username, Name: u.Name, AccessToken: u.AccessToken, RefreshToken: u.RefreshToken,
		ClientID: u.ClientID, ClientSecret: u.ClientSecret, ConsumerKey: u.ConsumerKey, ConsumerSecret: u.ConsumerSecret,
		TokenSecret: u.TokenSecret, TokenTTL: ttl}
	id := s.addUser(user)
	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
}

// metricsJSON sets a post's figures over the control plane.
type metricsJSON struct {
	PostID string `json:"post_id"`
	Metrics
}

func (s *Server) postMetrics(w http.ResponseWriter, r *http.Request) {
	var m metricsJSON
	if !decodeControl(w, r, &m) {
		return
	}
	if !s.setMetrics(m.PostID, m.Metrics) {
		controlError(w, http.StatusNotFound, "no post "+m.PostID)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// pageTemplate is the page at /: what a newcomer running the demo looks
// at to see posts arrive. html/template escapes every post's text.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>Fake X: {{len .Posts}} posts</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; color: #0f1419; }
article { border-bottom: 1px solid #cfd9de; padding: .75rem 0; }
.meta { color: #536471; font-size: .85rem; }
.text { white-space: pre-wrap; margin: .25rem 0; }
.deleted { opacity: .5; text-decoration: line-through; }
</style>
</head>
<body>
<h1>Fake X</h1>
<p class="meta">Posts this fake X server accepted, newest first; the page refreshes every 5 seconds. JSON: <a href="/_fake/posts">/_fake/posts</a>, <a href="/_fake/requests">/_fake/requests</a>.</p>
{{range .Posts}}
<article{{if .Deleted}} class="deleted"{{end}}>
<div class="meta">@{{.Author}} · {{.CreatedAt.UTC.Format "2006-01-02 15:04:05 MST"}} · id {{.ID}}{{if .ReplyTo}} · reply to {{.ReplyTo}}{{end}}{{if .MediaIDs}} · {{len .MediaIDs}} media{{end}}{{if .Deleted}} · deleted{{end}}</div>
<p class="text">{{.Text}}</p>
</article>
{{else}}
<p>No posts yet.</p>
{{end}}
</body>
</html>
`))

type pagePost struct {
	Post
	Author string
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	posts := s.Posts()
	slices.Reverse(posts)
	view := struct{ Posts []pagePost }{}
	s.mu.Lock()
	for _, p := range posts {
		name := p.AuthorID
		if u := s.users[p.AuthorID]; u != nil {
			name = u.Username
		}
		view.Posts = append(view.Posts, pagePost{Post: p, Author: name})
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplate.Execute(w, view); err != nil {
		s.logger.Warn("fake x page", "error", err)
	}
}
