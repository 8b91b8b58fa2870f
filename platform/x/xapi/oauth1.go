package xapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/herald-social/herald/clock"
)

// OAuth1 authorizes with OAuth 1.0a user-context credentials, signing each
// request with HMAC-SHA1 as RFC 5849 section 3 says. It never refreshes:
// the credentials do not expire.
//
// It is a small implementation of our own rather than
// github.com/dghubble/oauth1: that package signs only inside its own
// http.RoundTripper (its signer, clock and nonce source are unexported),
// which fits neither Auth.Authorize nor a test against the published
// example signatures.
func OAuth1(consumerKey, consumerSecret, accessToken, accessTokenSecret string) Auth {
	return &oauth1{
		consumerKey: consumerKey, consumerSecret: consumerSecret,
		token: accessToken, tokenSecret: accessTokenSecret,
		clock: clock.Real(), nonce: randomNonce,
	}
}

type oauth1 struct {
	consumerKey, consumerSecret string
	token, tokenSecret          string
	// clock stamps oauth_timestamp: X checks it against real time, so
	// only tests set anything but clock.Real().
	clock clock.Clock
	nonce func() string
}

// String hides the credentials from fmt and loggers.
func (*oauth1) String() string { return "xapi.OAuth1(***)" }

func (*oauth1) Refresh(context.Context) (bool, error) { return false, nil }

func (o *oauth1) Authorize(_ context.Context, req *http.Request) error {
	h, err := o.header(req)
	if err != nil {
		return fmt.Errorf("oauth1 signature: %w", err)
	}
	req.Header.Set("Authorization", h)
	return nil
}

// header returns the Authorization header value for req (RFC 5849 3.5.1).
func (o *oauth1) header(req *http.Request) (string, error) {
	oauthParams := [][2]string{
		{"oauth_consumer_key", o.consumerKey},
		{"oauth_nonce", o.nonce()},
		{"oauth_signature_method", "HMAC-SHA1"},
		{"oauth_timestamp", strconv.FormatInt(o.clock.Now().Unix(), 10)},
		{"oauth_token", o.token},
		{"oauth_version", "1.0"},
	}
	params, err := requestParams(req)
	if err != nil {
		return "", err
	}
	params = append(params, oauthParams...)
	base := signatureBase(req, params)
	mac := hmac.New(sha1.New, []byte(percentEncode(o.consumerSecret)+"&"+percentEncode(o.tokenSecret)))
	mac.Write([]byte(base))
	sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))

	oauthParams = append(oauthParams, [2]string{"oauth_signature", sig})
	sort.Slice(oauthParams, func(i, j int) bool { return oauthParams[i][0] < oauthParams[j][0] })
	var b strings.Builder
	b.WriteString("OAuth ")
	for i, p := range oauthParams {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `%s="%s"`, percentEncode(p[0]), percentEncode(p[1]))
	}
	return b.String(), nil
}

// requestParams collects the query parameters and, for a single-part
// form-encoded body, the body parameters (RFC 5849 3.4.1.3.1). JSON and
// multipart bodies are not signed.
func requestParams(req *http.Request) ([][2]string, error) {
	var params [][2]string
	add := func(v url.Values) {
		for k, vs := range v {
			for _, s := range vs {
				params = append(params, [2]string{k, s})
			}
		}
	}
	q, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	add(q)
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" && req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		f, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, fmt.Errorf("form body: %w", err)
		}
		add(f)
	}
	return params, nil
}

// signatureBase builds the signature base string (RFC 5849 3.4.1): method,
// base string URI and normalized parameters, each percent-encoded.
func signatureBase(req *http.Request, params [][2]string) string {
	enc := make([][2]string, len(params))
	for i, p := range params {
		enc[i] = [2]string{percentEncode(p[0]), percentEncode(p[1])}
	}
	// By encoded name, then encoded value (3.4.1.3.2). Sorting the joined
	// "name=value" strings would not do: '%', '-' and '.' sort below '='.
	sort.Slice(enc, func(i, j int) bool {
		if enc[i][0] != enc[j][0] {
			return enc[i][0] < enc[j][0]
		}
		return enc[i][1] < enc[j][1]
	})
	pairs := make([]string, len(enc))
	for i, p := range enc {
		pairs[i] = p[0] + "=" + p[1]
	}
	return strings.ToUpper(req.Method) + "&" + percentEncode(baseStringURI(req.URL)) + "&" + percentEncode(strings.Join(pairs, "&"))
}

// baseStringURI is scheme://host[:port]/path with the default port left
// out and scheme and host in lower case (RFC 5849 3.4.1.2).
func baseStringURI(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if port := u.Port(); port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path
}

// percentEncode encodes s as RFC 5849 3.6 says: every byte but the RFC 3986
// unreserved characters becomes %XX with upper-case hex digits.
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func randomNonce() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
