package fakex

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/clock"
)

// X's documentation works one signature through by hand ("Creating a
// signature"): this test checks the fake's verifier against it, a vector
// the fake's own code did not produce.
func TestVerifyOAuth1MatchesXDocumentationExample(t *testing.T) {
	s := New(Options{Clock: clock.NewFake(time.Unix(1318622958, 0))})
	s.AddUser(User{ID: "370773112", AccessToken: "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
		ConsumerKey: "xvz1evFS4wEEPTGEFPHBog", ConsumerSecret: "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
		TokenSecret: "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"})
	request := func(signature, status string) *http.Request {
		r := httptest.NewRequest("POST", "https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
			strings.NewReader("status="+status))
		r.TLS = &tls.ConnectionState{}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", `OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", `+
			`oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", oauth_signature="`+signature+`", `+
			`oauth_signature_method="HMAC-SHA1", oauth_timestamp="1318622958", `+
			`oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", oauth_version="1.0"`)
		return r
	}
	const status = "Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21"
	tests := []struct {
		name      string
		signature string
		status    string
		ok        bool
	}{
		{"the documented signature", "hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D", status, true},
		{"another signature", "Ls93hJiZbQ3akF3HF3x1Bz8%2FzU4%3D", status, false},
		{"a tampered body", "hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D", status + "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(tt.signature, tt.status)
			u, app, ok := s.authenticate(r, time.Unix(1318622958, 0))
			if ok != tt.ok {
				t.Fatalf("authenticate ok = %v, want %v", ok, tt.ok)
			}
			if ok && (u.ID != "370773112" || app != "xvz1evFS4wEEPTGEFPHBog") {
				t.Errorf("user %q app %q", u.ID, app)
			}
		})
	}
}

func TestSnowflakeIDsGrowAndStayUnique(t *testing.T) {
	var g idGen
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := g.next(now), g.next(now)
	c := g.next(now.Add(time.Millisecond))
	if !(idNum(a) < idNum(b) && idNum(b) < idNum(c)) {
		t.Fatalf("ids %s %s %s do not grow", a, b, c)
	}
	if len(a) < 18 || len(a) > 19 {
		t.Errorf("id %s does not look like an X id", a)
	}
}
