package xapi

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/clock"
)

func fixedOAuth1(ck, cs, tok, ts, nonce string, unix int64) *oauth1 {
	return &oauth1{consumerKey: ck, consumerSecret: cs, token: tok, tokenSecret: ts,
		clock: clock.NewFake(time.Unix(unix, 0)), nonce: func() string { return nonce }}
}

// The published examples: X's "Creating a signature" page (for its
// /1.1/ and older /1/ URL) and the OAuth Core 1.0 appendix example that
// RFC 5849 carries on.
func TestOAuth1KnownSignatures(t *testing.T) {
	const status = "status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21"
	twitter := fixedOAuth1("xvz1evFS4wEEPTGEFPHBog", "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
		"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
		"kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", 1318622958)
	tests := []struct {
		name   string
		signer *oauth1
		method string
		url    string
		body   string
		want   string
	}{
		{"x docs 1.1", twitter, "POST", "https://api.twitter.com/1.1/statuses/update.json?include_entities=true", status,
			`OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1318622958", oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", oauth_version="1.0"`},
		{"x docs 1", twitter, "POST", "https://api.twitter.com/1/statuses/update.json?include_entities=true", status,
			`OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", oauth_signature="tnnArxj06cWHq44gCs1OSKk%2FjLY%3D", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1318622958", oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", oauth_version="1.0"`},
		{"oauth core appendix", fixedOAuth1("dpf43f3p2l4k3l03", "kd94hf93k423kf44", "nnch734d00sl2jdk", "pfkkdhi9sl3r4s00", "kllo9940pd9333jh", 1191242096),
			"GET", "http://photos.example.net:80/photos?file=vacation.jpg&size=original", "",
			`OAuth oauth_consumer_key="dpf43f3p2l4k3l03", oauth_nonce="kllo9940pd9333jh", oauth_signature="tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1191242096", oauth_token="nnch734d00sl2jdk", oauth_version="1.0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body *strings.Reader
			req, err := http.NewRequest(tt.method, tt.url, nil)
			if tt.body != "" {
				body = strings.NewReader(tt.body)
				req, err = http.NewRequest(tt.method, tt.url, body)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.signer.Authorize(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			if got := req.Header.Get("Authorization"); got != tt.want {
				t.Errorf("Authorization\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// JSON and multipart bodies are not part of the signature; form bodies
// are.
func TestOAuth1SignsOnlyFormBodies(t *testing.T) {
	o := fixedOAuth1("ck", "cs", "tok", "ts", "nonce", 1700000000)
	sign := func(contentType, body string) string {
		req, _ := http.NewRequest("POST", "https://api.x.com/2/tweets", strings.NewReader(body))
		if body == "" {
			req, _ = http.NewRequest("POST", "https://api.x.com/2/tweets", nil)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if err := o.Authorize(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if body != "" {
			// The body must still be there to send.
			b, err := io.ReadAll(req.Body)
			if err != nil || string(b) != body {
				t.Errorf("body after signing %q, %v", b, err)
			}
		}
		return req.Header.Get("Authorization")
	}
	none := sign("", "")
	if got := sign("application/json", `{"text":"hello"}`); got != none {
		t.Errorf("a JSON body changed the signature")
	}
	if got := sign("multipart/form-data; boundary=x", "--x--"); got != none {
		t.Errorf("a multipart body changed the signature")
	}
	if got := sign("application/x-www-form-urlencoded", "a=b"); got == none {
		t.Errorf("a form body did not change the signature")
	}
}

func TestSignatureBaseOrder(t *testing.T) {
	req, _ := http.NewRequest("GET", "HTTPS://API.X.com:443/2/a%20b?z=1", nil)
	got := signatureBase(req, [][2]string{{"a-b", "1"}, {"a", "2"}, {"a", "1"}, {"a b", "x"}})
	want := "GET&https%3A%2F%2Fapi.x.com%2F2%2Fa%2520b&a%3D1%26a%3D2%26a%2520b%3Dx%26a-b%3D1"
	if got != want {
		t.Errorf("base\n got %s\nwant %s", got, want)
	}
	for in, want := range map[string]string{
		"abcXYZ019-._~": "abcXYZ019-._~", "a b": "a%20b", "+": "%2B", "*": "%2A", "é": "%C3%A9", "/?&=": "%2F%3F%26%3D",
	} {
		if got := percentEncode(in); got != want {
			t.Errorf("percentEncode(%q) = %q, want %q", in, got, want)
		}
	}
}

// Through a Client: the header is OAuth, and OAuth1 never refreshes.
func TestOAuth1ThroughClient(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		reply(w, http.StatusUnauthorized, `{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`)
	})
	c, _ := newClient(t, s.URL, func(o *Options) { o.Auth = OAuth1("ck", "cs", "tok", "ts") })
	_, err := c.Me(context.Background())
	if ClassOf(err) != ClassReauth {
		t.Errorf("401 with OAuth1: %v", err)
	}
	reqs := s.requests()
	if len(reqs) != 1 || !strings.HasPrefix(reqs[0].Header.Get("Authorization"), `OAuth oauth_consumer_key="ck", oauth_nonce="`) {
		t.Errorf("%d requests, Authorization %q", len(reqs), reqs[0].Header.Get("Authorization"))
	}
	if s := OAuth1("ck", "cs", "tok", "ts").(interface{ String() string }).String(); strings.Contains(s, "cs") || strings.Contains(s, "tok") {
		t.Errorf("String() = %q", s)
	}
}
