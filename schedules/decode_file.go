package schedules

import (
	"go.yaml.in/yaml/v3"
)

// The field names of the format, in the order documentation lists them.
var (
	topFields      = []string{"accounts", "schedules"}
	accountFields  = []string{"platform", "oauth2", "oauth1", "limits"}
	oauth2Fields   = []string{"access_token", "refresh_token", "client_id", "client_secret"}
	oauth1Fields   = []string{"consumer_key", "consumer_secret", "access_token", "access_token_secret"}
	limitsFields   = []string{"preset", "windows"}
	windowFields   = []string{"endpoint", "scope", "limit", "per"}
	scheduleFields = []string{"id", "account", "cron", "rrule", "at", "timezone", "jitter", "catchup",
		"deadline", "max_attempts", "enabled", "start", "end", "post", "metrics"}
	postFields  = []string{"text", "media", "thread"}
	mediaFields = []string{"path", "alt"}
)

// fileDraft is what one file declares, before cross-file checks.
type fileDraft struct {
	accounts  []*Account
	schedules []*scheduleDraft
}

// scheduleDraft holds the value node of every field a schedule item sets
// (aliases followed), so that validation can point at each one.
type scheduleDraft struct {
	p    path
	i    int // the index in the schedules list
	item *yaml.Node
	id, account, cron, rrule, at, timezone, jitter, catchup,
	deadline, maxAttempts, enabled, start, end, post, metrics *yaml.Node
	postOK        bool // post is a mapping, so a missing text is worth reporting
	text          *yaml.Node
	media, thread *yaml.Node
	mediaItems    []mediaDraft
	threadItems   []*yaml.Node
	metricItems   []*yaml.Node
}

type mediaDraft struct {
	i               int
	item, path, alt *yaml.Node
}

// document decodes one YAML document into fd.
func (w *walker) document(doc *yaml.Node, fd *fileDraft) {
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return
		}
		doc = doc.Content[0]
	}
	if doc.Kind == 0 || isNull(doc) {
		return // an empty document, or one with only comments
	}
	if doc.Kind != yaml.MappingNode && doc.Kind != yaml.AliasNode {
		w.errf(doc, path{}, "a schedules file must be a mapping with accounts and schedules, got %s", describe(doc))
		return
	}
	w.mapping(doc, path{}, topFields, func(key string, k, v *yaml.Node) {
		if isNull(v) {
			return // "schedules:" with everything commented out
		}
		switch key {
		case "accounts":
			w.mapping(v, path{rel: "accounts"}, nil, func(name string, k, v *yaml.Node) {
				if a := w.account(name, k, v); a != nil {
					fd.accounts = append(fd.accounts, a)
				}
			})
		case "schedules":
			items, _ := w.sequence(v, path{rel: "schedules"})
			for i, it := range items {
				if d := w.schedule(it, i); d != nil {
					fd.schedules = append(fd.schedules, d)
				}
			}
		}
	})
}

// schedule decodes one item of the schedules list.
func (w *walker) schedule(n *yaml.Node, i int) *scheduleDraft {
	d := w.newDraft()
	*d = scheduleDraft{p: path{item: "schedules", n: i + 1, noun: "schedule"}, i: i, item: n}
	ok := w.mapping(n, d.p, scheduleFields, func(key string, k, v *yaml.Node) {
		switch key {
		case "id":
			d.id = v
		case "account":
			d.account = v
		case "cron":
			d.cron = v
		case "rrule":
			d.rrule = v
		case "at":
			d.at = v
		case "timezone":
			d.timezone = v
		case "jitter":
			d.jitter = v
		case "catchup":
			d.catchup = v
		case "deadline":
			d.deadline = v
		case "max_attempts":
			d.maxAttempts = v
		case "enabled":
			d.enabled = v
		case "start":
			d.start = v
		case "end":
			d.end = v
		case "post":
			d.post = v
			w.post(d, v)
		case "metrics":
			d.metrics = v
			d.metricItems, _ = w.sequence(v, d.p.child("metrics"))
		}
	})
	if !ok {
		return nil
	}
	return d
}

// newDraft returns a zero scheduleDraft from the worker's scratch: one
// allocation per schedule adds up over a million of them, and drafts live
// only while their file is decoded.
func (w *walker) newDraft() *scheduleDraft { return w.env.scratch.drafts.new() }

func (w *walker) post(d *scheduleDraft, n *yaml.Node) {
	p := d.p.sub("post")
	d.postOK = w.mapping(n, p, postFields, func(key string, k, v *yaml.Node) {
		switch key {
		case "text":
			d.text = v
		case "thread":
			d.thread = v
			d.threadItems, _ = w.sequence(v, d.p.sub("post.thread"))
		case "media":
			d.media = v
			items, _ := w.sequence(v, d.p.sub("post.media"))
			for i, it := range items {
				md := mediaDraft{i: i, item: it}
				ok := w.mapping(it, d.p.sub("post.media").index(i), mediaFields, func(key string, k, v *yaml.Node) {
					if key == "path" {
						md.path = v
					} else {
						md.alt = v
					}
				})
				if ok {
					d.mediaItems = append(d.mediaItems, md)
				}
			}
		}
	})
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }
