package fakex

import (
	"encoding/json"
	"net/http"
)

// Problem type URIs as X sends them. X's host in these URIs has changed
// over time (api.twitter.com, api.x.com); clients match on the suffix.
const (
	problemBase            = "https://api.twitter.com/2/problems/"
	typeInvalidRequest     = problemBase + "invalid-request"
	typeResourceNotFound   = problemBase + "resource-not-found"
	typeNotAuthorizedField = problemBase + "not-authorized-for-field"
	typeCredits            = problemBase + "credits"
	typeAboutBlank         = "about:blank"
)

// Details X puts in the problems the fake reproduces.
const (
	detailInvalidRequest = "One or more parameters to your request was invalid."
	detailDuplicate      = "You are not allowed to create a Tweet with duplicate content."
	detailReplyMissing   = "You attempted to reply to a Tweet that is deleted or not visible to you."
	detailTooLong        = "Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text."
	detailMediaInvalid   = "Your media IDs are invalid."
	detailNotYourPost    = "You are not allowed to delete this Tweet."
)

// problem is an RFC 7807 problem as X sends it; the optional members are
// those of X's problem subtypes (InvalidRequestProblem's errors,
// ResourceNotFoundProblem's parameter/value/resource_*, and so on).
type problem struct {
	Type         string         `json:"type"`
	Title        string         `json:"title"`
	Detail       string         `json:"detail,omitempty"`
	Status       int            `json:"status,omitempty"`
	Errors       []requestError `json:"errors,omitempty"`
	Parameter    string         `json:"parameter,omitempty"`
	Value        string         `json:"value,omitempty"`
	ResourceID   string         `json:"resource_id,omitempty"`
	ResourceType string         `json:"resource_type,omitempty"`
	Field        string         `json:"field,omitempty"`
	Section      string         `json:"section,omitempty"`
}

// requestError is one entry of an invalid-request problem's errors.
type requestError struct {
	Parameters map[string][]string `json:"parameters"`
	Message    string              `json:"message"`
}

// invalidRequest is X's 400 answer to a request that breaks the schema or
// a rule of the endpoint.
func invalidRequest(errs ...requestError) problem {
	for i := range errs {
		if errs[i].Parameters == nil {
			errs[i].Parameters = map[string][]string{}
		}
	}
	return problem{Type: typeInvalidRequest, Title: "Invalid Request", Detail: detailInvalidRequest, Status: http.StatusBadRequest, Errors: errs}
}

// invalidParam is an invalid-request problem about one parameter.
func invalidParam(param, value, message string) problem {
	return invalidRequest(requestError{Parameters: map[string][]string{param: {value}}, Message: message})
}

// blank is a generic problem (type about:blank) with the status's title;
// X answers 401, 403, 429 and 5xx this way.
func blank(status int, detail string) problem {
	title := http.StatusText(status)
	if detail == "" {
		detail = title
	}
	return problem{Type: typeAboutBlank, Title: title, Detail: detail, Status: status}
}

// defaultProblem is the body of an injected fault that has none: the
// problem X sends with that status.
func defaultProblem(status int) problem {
	switch status {
	case http.StatusBadRequest:
		return invalidRequest(requestError{Message: "Injected fault: the request was refused."})
	case http.StatusPaymentRequired:
		return problem{Type: typeCredits, Title: "CreditsDepleted", Detail: "Your enrolled account does not have any credits to fulfill this request.", Status: status}
	}
	return blank(status, "")
}

// writeProblem answers p with its status as application/problem+json.
func writeProblem(w http.ResponseWriter, p problem) {
	writeJSONType(w, p.Status, "application/problem+json", p)
}

// writeJSON answers v with status as application/json.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONType(w, status, "application/json; charset=utf-8", v)
}

func writeJSONType(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value answered is built by this package from plain types.
		panic("fakex: encoding a response: " + err.Error())
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
