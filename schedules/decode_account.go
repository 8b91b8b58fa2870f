package schedules

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// validID reports whether s has the form of schedule ids and account
// names, ^[a-z0-9][a-z0-9._-]{0,127}$: lowercase so that two ids never
// differ only by case (they end up in URLs, metric labels, log fields and
// the job dedupe key), starting with a letter or a digit, at most 128
// characters. It is written out rather than a regexp because every
// schedule's id goes through it.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

const idRule = "use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit, at most 128 characters"

// envName is the form of an environment variable name in env:NAME.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// limitPresets are the rate-limit presets an account may name. They must
// match ratelimit.Presets, which holds their windows.
var limitPresets = []string{"current", "legacy-free", "legacy-basic", "legacy-pro"}

// limitEndpoints are the endpoint names a limits window may name. They must
// match ratelimit.Endpoints and the X client's names; schedules may not
// import ratelimit, so a test on each side checks its list against the same
// literal one (TestLimitEndpoints here, TestEndpointNames there).
var limitEndpoints = []string{"create_post", "delete_post", "lookup_posts", "user_posts", "me", "media_upload", "media_metadata"}

// LimitEndpoints returns the endpoint names a limits window may name, in a
// new slice.
func LimitEndpoints() []string { return slices.Clone(limitEndpoints) }

// maxWindowLimit bounds limits.windows[].limit: far above any number X
// publishes, low enough that a typo of extra digits is caught.
const maxWindowLimit = 1_000_000

// account decodes and checks one account. It never reads a secret. The
// account is returned even when it has problems (they are recorded), so that
// schedules naming it do not also report an unknown account.
func (w *walker) account(name string, k, n *yaml.Node) *Account {
	p := path{item: "accounts." + name}
	a := &Account{Name: name, Limits: "current", Source: Pos{w.file, k.Line, k.Column}}
	if !validID(name) {
		w.errf(k, path{rel: "accounts"}, "%s is not a valid account name (%s)", quoteShort(name), idRule)
	}
	if !w.quietMapping(n, p) {
		return a
	}
	var platform *yaml.Node
	ok := w.mapping(n, p, accountFields, func(key string, k, v *yaml.Node) {
		switch key {
		case "platform":
			platform = v
			s, ok := w.str(v, p.child(key))
			if ok && s != "x" {
				w.errf(v, p.child(key), "unsupported platform %s (supported: x)", quoteShort(s))
			}
			a.Platform = s
		case "limits":
			w.limits(a, v, p.child(key))
		case "oauth2":
			o := &OAuth2{}
			w.secrets(v, p.child(key), oauth2Fields, oauth2Fields[:1], []*SecretRef{
				&o.AccessToken, &o.RefreshToken, &o.ClientID, &o.ClientSecret})
			a.OAuth2 = o
		case "oauth1":
			o := &OAuth1{}
			w.secrets(v, p.child(key), oauth1Fields, oauth1Fields, []*SecretRef{
				&o.ConsumerKey, &o.ConsumerSecret, &o.AccessToken, &o.AccessTokenSecret})
			a.OAuth1 = o
		}
	})
	if ok && platform == nil {
		w.errf(n, p, "missing required field \"platform\" (x)")
	}
	return a
}

// limits decodes an account's limits: a preset name, or a mapping of an
// optional preset and explicit windows.
func (w *walker) limits(a *Account, n *yaml.Node, p path) {
	if n.Kind == yaml.ScalarNode {
		a.Limits = w.preset(n, p)
		return
	}
	if n.Kind != yaml.MappingNode {
		w.errf(n, p, "must be a preset name or a mapping with preset and windows, got %s", describe(n))
		return
	}
	w.mapping(n, p, limitsFields, func(key string, k, v *yaml.Node) {
		switch key {
		case "preset":
			a.Limits = w.preset(v, p.child(key))
		case "windows":
			a.LimitWindows = w.limitWindows(v, p.child(key))
		}
	})
}

func (w *walker) preset(n *yaml.Node, p path) string {
	s, ok := w.str(n, p)
	if !ok {
		return "current"
	}
	if !contains(limitPresets, s) {
		w.errf(n, p, "unknown preset %s (known: %s)", quoteShort(s), strings.Join(limitPresets, ", "))
	}
	return s
}

// limitWindows decodes limits.windows; only complete, valid windows are
// kept. Two windows of one endpoint, scope and period would leave it
// unclear which limit holds, so the second is refused.
func (w *walker) limitWindows(n *yaml.Node, p path) []LimitWindow {
	items, ok := w.sequence(n, p)
	if !ok {
		return nil
	}
	var out []LimitWindow
	var firsts []*yaml.Node // the item of each window in out
	for i, it := range items {
		ip := p.index(i)
		lw := LimitWindow{Source: Pos{w.file, it.Line, it.Column}}
		var set [4]bool
		good := len(w.diags)
		w.mapping(it, ip, windowFields, func(key string, k, v *yaml.Node) {
			switch key {
			case "endpoint":
				set[0] = true
				if s, ok := w.str(v, ip.child(key)); ok && !contains(limitEndpoints, s) {
					if sug := suggest(s, limitEndpoints); sug != "" {
						w.errf(v, ip.child(key), "unknown endpoint %s (did you mean %q?)", quoteShort(s), sug)
					} else {
						w.errf(v, ip.child(key), "unknown endpoint %s (known: %s)", quoteShort(s), strings.Join(limitEndpoints, ", "))
					}
				} else {
					lw.Endpoint = s
				}
			case "scope":
				set[1] = true
				if s, ok := w.str(v, ip.child(key)); ok && s != "user" && s != "app" {
					w.errf(v, ip.child(key), "must be user or app, got %s", quoteShort(s))
				} else {
					lw.Scope = s
				}
			case "limit":
				set[2] = true
				lw.Limit = w.integer(v, ip.child(key), 1, maxWindowLimit, 0)
			case "per":
				set[3] = true
				switch d := w.duration(v, ip.child(key), -1); d {
				case -1:
				case 0:
					w.errf(v, ip.child(key), "must be positive")
				default:
					lw.Per = d
				}
			}
		})
		if w.fatal || it.Kind != yaml.MappingNode {
			continue
		}
		for j, f := range windowFields {
			if !set[j] {
				w.errf(it, ip, "missing required field %q", f)
			}
		}
		if len(w.diags) != good {
			continue
		}
		if j := slices.IndexFunc(out, func(o LimitWindow) bool {
			return o.Endpoint == lw.Endpoint && o.Scope == lw.Scope && o.Per == lw.Per
		}); j >= 0 {
			w.errf(it, ip, "a second %s window per %s for %s (first at line %d)",
				lw.Scope, formatDuration(lw.Per), lw.Endpoint, firsts[j].Line)
			continue
		}
		out = append(out, lw)
		firsts = append(firsts, it)
	}
	return out
}

// secrets decodes a mapping of secret references; fields[i] fills out[i].
func (w *walker) secrets(n *yaml.Node, p path, fields, required []string, out []*SecretRef) {
	if !w.quietMapping(n, p) {
		return
	}
	set := make([]bool, len(fields))
	ok := w.mapping(n, p, fields, func(key string, k, v *yaml.Node) {
		for i, f := range fields {
			if f == key {
				set[i] = true
				*out[i] = w.secretRef(v, p.child(key))
			}
		}
	})
	for i, f := range fields {
		if ok && !set[i] && contains(required, f) {
			w.errf(n, p, "missing required field %q", f)
		}
	}
}

// quietMapping reports whether n (following an alias) is a mapping, and
// otherwise records a problem that does not quote n: where a mapping of
// secret references belongs, a string is likely a pasted secret.
func (w *walker) quietMapping(n *yaml.Node, p path) bool {
	if n = w.deref(n); n == nil {
		return false
	}
	if n.Kind != yaml.MappingNode {
		w.errf(n, p, "must be a mapping (the value is not shown: it may be a secret)")
		return false
	}
	return true
}

// reservedEnvPrefix starts the names of Herald's own settings (its flags'
// variables and HERALD_TOKEN_KEY); a secret reference may not name them.
const reservedEnvPrefix = "HERALD_"

// secretRef parses env:NAME or file:/absolute/path. A value of any other
// form is probably a secret pasted inline, so the message never quotes it.
func (w *walker) secretRef(n *yaml.Node, p path) SecretRef {
	const want = "must be a secret reference, env:NAME or file:/absolute/path"
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		w.errf(n, p, "%s (the value is not shown: it may be a secret)", want)
		return SecretRef{}
	}
	scheme, rest, _ := strings.Cut(n.Value, ":")
	switch {
	case scheme == "env" && envName.MatchString(rest) && strings.HasPrefix(strings.ToUpper(rest), reservedEnvPrefix):
		// HERALD_TOKEN_KEY decrypts every stored token: a plan that may
		// name it could post it. The prefix is Herald's own.
		w.errf(n, p, "env:%s names one of Herald's own variables (%s*, such as HERALD_TOKEN_KEY), which a plan may not read; use a variable of another name",
			rest, reservedEnvPrefix)
	case scheme == "env" && envName.MatchString(rest):
		return SecretRef{Scheme: "env", Name: rest}
	case scheme == "env":
		w.errf(n, p, "env: needs an environment variable name (letters, digits and _, not starting with a digit)")
	case scheme == "file" && filepath.IsAbs(rest) && !strings.ContainsRune(rest, 0):
		return SecretRef{Scheme: "file", Name: rest}
	case scheme == "file":
		w.errf(n, p, "file: needs an absolute path, such as file:/run/secrets/x")
	default:
		w.errf(n, p, "%s; inline secrets are not allowed (the value is not shown)", want)
	}
	return SecretRef{}
}
