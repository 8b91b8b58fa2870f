package fakex

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// verifyOAuth1 checks an OAuth 1.0a HMAC-SHA1 signature (RFC 5849 §3.4)
// against the user's registered consumer secret and token secret. The
// header is `OAuth k="v", ...` without the scheme.
//
// The fake checks neither oauth_timestamp nor nonce reuse: clients sign
// with the wall clock while the fake may run on a fake one.
func (s *Server) verifyOAuth1(r *http.Request, header string) (*user, string, bool) {
	oauth, ok := parseOAuthHeader(header)
	if !ok || oauth["oauth_signature_method"] != "HMAC-SHA1" {
		return nil, "", false
	}
	s.mu.Lock()
	u := s.users[s.oauth1[oauth["oauth_token"]]]
	s.mu.Unlock()
	if u == nil || u.ConsumerKey == "" || oauth["oauth_consumer_key"] != u.ConsumerKey {
		return nil, "", false
	}
	var params [][2]string
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			params = append(params, [2]string{k, v})
		}
	}
	if form, ok := formBody(r); ok {
		for k, vs := range form {
			for _, v := range vs {
				params = append(params, [2]string{k, v})
			}
		}
	}
	for k, v := range oauth {
		if k != "oauth_signature" && k != "realm" {
			params = append(params, [2]string{k, v})
		}
	}
	want := signHMACSHA1(signatureBase(r.Method, baseURI(r), params), u.ConsumerSecret, u.TokenSecret)
	got, err := base64.StdEncoding.DecodeString(oauth["oauth_signature"])
	if err != nil || !hmac.Equal(got, want) {
		return nil, "", false
	}
	return u, u.ConsumerKey, true
}

// parseOAuthHeader splits `k="v", k2="v2"` into its decoded pairs.
func parseOAuthHeader(h string) (map[string]string, bool) {
	out := map[string]string{}
	for _, part := range strings.Split(h, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, false
		}
		v = strings.Trim(v, `"`)
		dv, err := url.PathUnescape(v)
		if err != nil {
			return nil, false
		}
		out[strings.TrimSpace(k)] = dv
	}
	return out, out["oauth_signature"] != ""
}

// formBody returns the parameters of a form-encoded body, which RFC 5849
// signs, and puts the body back for the handler.
func formBody(r *http.Request) (url.Values, bool) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" || r.Body == nil {
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody))
	r.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return nil, false
	}
	v, err := url.ParseQuery(string(b))
	return v, err == nil
}

// baseURI is the request's URI as the client signed it (RFC 5849
// §3.4.1.2): scheme and host in lower case, default port omitted, no
// query.
func baseURI(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := strings.ToLower(r.Host)
	host = strings.TrimSuffix(host, map[string]string{"http": ":80", "https": ":443"}[scheme])
	return scheme + "://" + host + r.URL.EscapedPath()
}

// signatureBase builds the signature base string of RFC 5849 §3.4.1.
func signatureBase(method, uri string, params [][2]string) string {
	enc := make([]string, len(params))
	sorted := make([][2]string, len(params))
	for i, p := range params {
		sorted[i] = [2]string{percentEncode(p[0]), percentEncode(p[1])}
	}
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i][0] != sorted[j][0] {
			return sorted[i][0] < sorted[j][0]
		}
		return sorted[i][1] < sorted[j][1]
	})
	for i, p := range sorted {
		enc[i] = p[0] + "=" + p[1]
	}
	return strings.ToUpper(method) + "&" + percentEncode(uri) + "&" + percentEncode(strings.Join(enc, "&"))
}

// signHMACSHA1 signs a base string with the consumer and token secrets.
func signHMACSHA1(base, consumerSecret, tokenSecret string) []byte {
	mac := hmac.New(sha1.New, []byte(percentEncode(consumerSecret)+"&"+percentEncode(tokenSecret)))
	mac.Write([]byte(base))
	return mac.Sum(nil)
}

// percentEncode is RFC 3986 percent-encoding of everything but the
// unreserved characters, as RFC 5849 §3.6 requires.
func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
