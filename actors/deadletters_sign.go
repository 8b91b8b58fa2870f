package actors

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"time"
)

// ErrBadSignature is returned by VerifyDeadLetter for a request that was
// not signed with the secret, or not recently enough.
var ErrBadSignature = errors.New("actors: dead-letter webhook signature does not verify")

// DeadLetterTolerance is the age VerifyDeadLetter accepts by default: a
// captured request replayed later than this is refused.
const DeadLetterTolerance = 5 * time.Minute

// signDeadLetter is the X-Herald-Signature of body sent at timestamp ts:
// the HMAC-SHA256 of "ts.body". Signing the timestamp with the body lets
// a receiver refuse a replayed request (Stripe's scheme).
func signDeadLetter(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifyDeadLetter checks a dead-letter request as a receiver should:
// timestamp and signature are the X-Herald-Timestamp and X-Herald-Signature
// headers, body the raw body. It fails (ErrBadSignature) when the
// signature is not that of "timestamp.body" under secret, compared in
// constant time, or when the timestamp is further than tolerance from now
// (either way: clocks differ). A receiver should also drop an
// Idempotency-Key it has already handled.
func VerifyDeadLetter(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrBadSignature
	}
	if !hmac.Equal([]byte(signature), []byte(signDeadLetter(secret, timestamp, body))) {
		return ErrBadSignature
	}
	return nil
}

// RedactURL is u as logs and errors may show it: scheme and host only,
// "…" standing for a path, query or fragment, and any user and password
// dropped; webhook URLs often carry their secret in one of those
// (https://hooks.slack.com/services/T0/B0/SECRET). A URL that does not
// parse shows as "(unparsable URL)".
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "(unparsable URL)"
	}
	shown := p.Scheme + "://" + p.Host
	if (p.Path != "" && p.Path != "/") || p.RawQuery != "" || p.Fragment != "" || p.Opaque != "" {
		shown += "/…"
	}
	return shown
}
