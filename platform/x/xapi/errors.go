package xapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Class tells the caller what to do about a failed request.
type Class int

const (
	// ClassTransient: nothing happened at X, or nothing that matters;
	// trying again later may work (408, a transport failure before the
	// request was written, a 5xx or a lost answer to a read or a media
	// call, a request refused before sending by a guard or
	// Options.BeforeRequest).
	ClassTransient Class = iota
	// ClassPermanent: X refused the request; the same request will be
	// refused again (validation, duplicate content, forbidden, credits,
	// not found, media processing failed).
	ClassPermanent
	// ClassReauth: the credentials are no good and could not be refreshed;
	// an operator must authorize the account again.
	ClassReauth
	// ClassAmbiguous: a request that changes state (create_post,
	// delete_post, token) was written but its answer was lost or was a
	// 5xx; it may have taken effect. Reconcile before retrying.
	ClassAmbiguous
	// ClassRateLimited: X answered 429; wait until Error.ResetAt.
	ClassRateLimited
)

// String names the class for logs and metrics labels.
func (c Class) String() string {
	switch c {
	case ClassTransient:
		return "transient"
	case ClassPermanent:
		return "permanent"
	case ClassReauth:
		return "reauth"
	case ClassAmbiguous:
		return "ambiguous"
	case ClassRateLimited:
		return "rate_limited"
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// Problem suffixes of X's problem `type` URIs. Match them with
// Error.HasType or Problem.HasType: the host part of the URI has changed
// over time (api.twitter.com, api.x.com), the suffix has not.
const (
	ProblemInvalidRequest            = "invalid-request"
	ProblemClientForbidden           = "client-forbidden"
	ProblemUsageCapped               = "usage-capped"
	ProblemCredits                   = "credits"
	ProblemResourceNotFound          = "resource-not-found"
	ProblemNotAuthorizedForResource  = "not-authorized-for-resource"
	ProblemNotAuthorizedForField     = "not-authorized-for-field"
	ProblemUnsupportedAuthentication = "unsupported-authentication"
	ProblemConflict                  = "conflict"
)

// Problem is one entry of X's `errors` array (beside `data` in a 2xx
// answer, or inside an invalid-request problem), or the top-level problem
// of an error answer.
type Problem struct {
	Type    string `json:"type,omitempty"`
	Title   string `json:"title,omitempty"`
	Detail  string `json:"detail,omitempty"`
	Status  int    `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	// Parameters maps each invalid request parameter to its values
	// (invalid-request problems).
	Parameters map[string][]string `json:"parameters,omitempty"`
	// Parameter, Value, ResourceID and ResourceType name the resource a
	// partial error is about (resource-not-found, not-authorized-...).
	Parameter    string `json:"parameter,omitempty"`
	Value        string `json:"value,omitempty"`
	ResourceID   string `json:"resource_id,omitempty"`
	ResourceType string `json:"resource_type,omitempty"`
	// Section and Field say which part of the answer was withheld
	// (not-authorized-for-field).
	Section string `json:"section,omitempty"`
	Field   string `json:"field,omitempty"`
}

// UnmarshalJSON decodes a problem leniently: `value` is a string in the
// spec, but a number or an object there must not make the whole answer
// (and the post data beside it) unreadable.
func (p *Problem) UnmarshalJSON(b []byte) error {
	type plain Problem
	var v struct {
		plain
		Value  json.RawMessage `json:"value"`
		Status json.RawMessage `json:"status"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Problem(v.plain)
	p.Value = rawString(v.Value)
	if n, err := strconv.Atoi(rawString(v.Status)); err == nil {
		p.Status = n
	}
	return nil
}

// rawString returns a JSON string's content, or the raw text of any other
// JSON value.
func rawString(r json.RawMessage) string {
	if len(r) == 0 || string(r) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	return string(r)
}

// HasType reports whether the problem's type URI ends with suffix.
func (p Problem) HasType(suffix string) bool { return typeHasSuffix(p.Type, suffix) }

// Text is the most specific human-readable text of the problem.
func (p Problem) Text() string {
	switch {
	case p.Detail != "":
		return p.Detail
	case p.Message != "":
		return p.Message
	}
	return p.Title
}

func typeHasSuffix(typ, suffix string) bool {
	return typ == suffix || strings.HasSuffix(typ, "/"+suffix)
}

// Error is a failed X API request. It never holds a credential.
type Error struct {
	// Endpoint is one of the Endpoint* names.
	Endpoint string
	// Status is the HTTP status of X's answer, 0 when none arrived.
	Status int
	Class  Class
	// Type, Title and Detail come from X's problem JSON (for the token
	// endpoint: the OAuth `error` code and `error_description`).
	Type, Title, Detail string
	// Problems are the entries of the answer's `errors` array.
	Problems []Problem
	// ResetAt is, for ClassRateLimited, when the 429 stops applying: the
	// latest reset among the windows X reported exhausted (remaining 0
	// in x-rate-limit-*, x-user-limit-24hour-* or x-app-limit-24hour-*),
	// else x-rate-limit-reset; zero when no reset is known, and the
	// caller backs off.
	ResetAt time.Time
	// Err is the underlying transport or context error, if any.
	Err error
}

// Error says which endpoint failed, how, and X's own words.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("xapi ")
	b.WriteString(e.Endpoint)
	b.WriteString(": ")
	if e.Status == 0 {
		if e.Class == ClassAmbiguous {
			b.WriteString("request may have reached X: ")
		}
		if e.Err != nil {
			b.WriteString(e.Err.Error())
		} else {
			b.WriteString(e.Detail)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "HTTP %d", e.Status)
	if e.Title != "" {
		b.WriteString(" ")
		b.WriteString(e.Title)
	}
	if e.Detail != "" && e.Detail != e.Title {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if len(e.Problems) > 0 {
		if t := e.Problems[0].Text(); t != "" && t != e.Detail {
			b.WriteString(" (")
			b.WriteString(t)
			if len(e.Problems) > 1 {
				fmt.Fprintf(&b, "; and %d more", len(e.Problems)-1)
			}
			b.WriteString(")")
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying transport or context error.
func (e *Error) Unwrap() error { return e.Err }

// HasType reports whether X's problem type (or that of any entry of its
// errors array) ends with suffix, such as ProblemClientForbidden.
func (e *Error) HasType(suffix string) bool {
	if typeHasSuffix(e.Type, suffix) {
		return true
	}
	for _, p := range e.Problems {
		if p.HasType(suffix) {
			return true
		}
	}
	return false
}

// ClassOf returns the class of err: that of the *Error it wraps, or
// ClassTransient for any other error (a context cancelled before sending,
// a file that could not be opened for an upload...).
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return ClassTransient
}

// IsDuplicate reports whether X refused a post as duplicate content (403,
// "You are not allowed to create a Tweet with duplicate content."). On a
// retry after an ambiguous attempt it means the first attempt landed; X
// does not say which post it was.
func IsDuplicate(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.Status != 403 {
		return false
	}
	if containsFold(e.Detail, "duplicate content") {
		return true
	}
	for _, p := range e.Problems {
		if containsFold(p.Text(), "duplicate content") {
			return true
		}
	}
	return false
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), sub)
}

// classifyStatus is the classification table for an answer that arrived
// (see the package comment). It is pure so that every row is table-tested.
func classifyStatus(endpoint string, status int, oauthError, problemType string) Class {
	switch {
	case status >= 200 && status < 300:
		return ClassTransient // not an error; never used
	case status == 429:
		return ClassRateLimited
	case status >= 500:
		// X can store a post and still answer 5xx: for a request whose
		// effect may have happened, the answer proves nothing.
		if ambiguousAfterWrite(endpoint) {
			return ClassAmbiguous
		}
		return ClassTransient
	case status == 408:
		return ClassTransient
	case endpoint == EndpointToken:
		// RFC 6749 5.2: a spent, revoked or unknown refresh token is
		// invalid_grant; X answers invalid_request. Bad client
		// credentials are invalid_client (401). An operator must act.
		switch oauthError {
		case "invalid_request", "invalid_grant", "invalid_client", "unauthorized_client":
			return ClassReauth
		}
		if status == 401 {
			return ClassReauth
		}
		return ClassPermanent
	case status == 401:
		return ClassReauth
	case typeHasSuffix(problemType, ProblemUnsupportedAuthentication):
		// The account's credentials are of a kind this endpoint does
		// not accept (an app-only token on a user endpoint): only new
		// credentials help.
		return ClassReauth
	}
	return ClassPermanent
}

// ambiguousAfterWrite lists the endpoints whose lost answer, or 5xx
// answer, may hide an effect. create_post: the post may exist (X has no
// idempotency key, and can store a post and then fail the answer).
// delete_post: the post may be gone. token: X may have spent the refresh
// token and issued a new one we never saw. Media calls are left out on
// purpose: a lost initialize, append or finalize at worst leaves an unused
// media id that expires by itself, and the caller retries the whole upload.
// Reads are always safe to repeat.
func ambiguousAfterWrite(endpoint string) bool {
	switch endpoint {
	case EndpointCreatePost, EndpointDeletePost, EndpointToken:
		return true
	}
	return false
}
